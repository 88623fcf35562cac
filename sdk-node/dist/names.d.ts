/** Throws {@link InvalidInputError} unless `value` is a valid secret path; returns it. */
export declare function checkSecretPath(value: unknown): string;
/** Whether `value` is a valid secret path (the same rules, without an error). */
export declare function isSecretPath(value: string): boolean;
/** Whether `value` is a valid agent or group name. */
export declare function isName(value: string): boolean;
/** Throws {@link InvalidInputError} unless `value` is a valid agent or group name. */
export declare function checkName(what: "agent name" | "group name", value: unknown): string;

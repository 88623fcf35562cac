/** Throws {@link InvalidInputError} unless `value` is a valid secret path; returns it. */
export declare function checkSecretPath(value: unknown): string;
/** Throws {@link InvalidInputError} unless `value` is a valid agent or group name. */
export declare function checkName(what: "agent name" | "group name", value: unknown): string;

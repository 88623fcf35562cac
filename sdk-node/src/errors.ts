/**
 * The SDK's error classes. Every error the SDK throws is an {@link AgentVaultError}; its
 * subclass says what went wrong and its numeric `code` matches the exit code the
 * `agent-vault` CLI uses for the same failure (see `docs/format.md`, "Errors and exit codes").
 *
 * Messages say what went wrong and what to do next. They never contain secret values or key
 * material.
 *
 * @packageDocumentation
 */

/**
 * The root of every error the SDK throws. Never thrown directly: branch on a subclass with
 * `instanceof`, or on {@link AgentVaultError.code}.
 */
export class AgentVaultError extends Error {
  /**
   * The CLI exit code with the same meaning: 1 other failure, 2 invalid input, 3 not found,
   * 4 access denied, 5 integrity failure.
   */
  readonly code: number;

  /** Creates an error with a message and a CLI exit `code`. */
  constructor(message: string, code: number, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * @deprecated agent-vault 0.1.0's name of {@link AgentVaultError}, kept so that
 * `import { VaultError }` and `instanceof VaultError` in 0.1.0-era code keep working: use
 * `AgentVaultError`.
 */
export const VaultError = AgentVaultError;
/** @deprecated agent-vault 0.1.0's name of {@link AgentVaultError}. */
export type VaultError = AgentVaultError;

/** A vault file cannot be read or parsed, a ciphertext is corrupt, a key file is malformed, or
 * a value read with `get()` is not UTF-8 text. `code` 1. */
export class FormatError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

/** Invalid input: a bad secret path, agent or group name, or conflicting options. `code` 2. */
export class InvalidInputError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}

/** There is no vault (no git repository with `.agent-vault/`) at the given path or URL.
 * `code` 3. */
export class VaultNotFoundError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

/** The secret (or, for `listSecrets(group)`, the group) is not in the vault. `code` 3. */
export class SecretNotFoundError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

/** The key that was named (explicitly, via `agent`, or via `AGENT_VAULT_KEY`) does not exist,
 * or no key was found at all. Never a reason to silently try another key. `code` 3. */
export class KeyNotFoundError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

/** The key is not a recipient of the secret: access was never granted or was revoked.
 * `code` 4. */
export class NotAuthorizedError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 4, options);
  }
}

/** The vault is not what its owner signed: a file was changed, added or removed, the
 * signature is forged, missing or by another key, or the state was rolled back. Ask the owner to
 * run `agent-vault verify`. `code` 5. */
export class IntegrityError extends AgentVaultError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 5, options);
  }
}

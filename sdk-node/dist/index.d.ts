/**
 * Read-only Node SDK for agent-vault: secrets for AI agents and CI jobs, age-encrypted in a
 * git repository under `.agent-vault/`.
 *
 * ```ts
 * import { Vault, SecretNotFoundError } from "agent-vault";
 * const vault = new Vault({ repoPath: ".", agent: "deploy-bot" });
 * const token = await vault.get("stripe/api-key");
 * ```
 *
 * @packageDocumentation
 */
export { Vault } from "./vault.js";
export type { VaultOptions, SecretInfo, AgentInfo } from "./vault.js";
export { AgentVaultError, FormatError, InvalidInputError, IntegrityError, KeyNotFoundError, NotAuthorizedError, SecretNotFoundError, VaultNotFoundError, VaultError, } from "./errors.js";

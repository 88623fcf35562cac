//! Secrets as environment variables, env files and config templates — what `run`, `export`,
//! `inject` and `import` need besides the vault itself, as pure functions over bytes:
//!
//! * [`names`]: the variable a secret becomes (`app/api-token` → `APP_API_TOKEN`, a name
//!   recorded with `set --env`, or an explicit one) and the collision check;
//! * [`dotenv`]: reading `.env` files (`run --env-file`, `import`);
//! * [`export`]: writing the `dotenv`, `json`, `shell` and `github` formats;
//! * [`template`]: `{{ agent-vault://PATH }}` placeholders (`inject`) and `agent-vault://PATH`
//!   references in variables;
//! * [`mask`]: the streaming masker `run` relays the child's output through.
//!
//! Values stay in zeroizing buffers here; nothing in this module reads the process
//! environment, spawns processes or writes files.

pub mod dotenv;
pub mod export;
pub mod mask;
pub mod names;
pub mod template;

pub use names::{Binding, EnvName, NameSource, check_collisions, kebab_segment};
pub use template::{REFERENCE_PREFIX, reference};

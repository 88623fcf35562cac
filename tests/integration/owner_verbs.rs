//! The everyday owner verbs: `set --env`, `import`, `generate`, `mv`, `log`, `edit`.

use crate::common::*;

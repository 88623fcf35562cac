//! `agent-vault inject`: a template on stdin, `{{ agent-vault://PATH }}` placeholders filled
//! in, the result on stdout.

use std::io::Read;

use anyhow::Context;
use zeroize::Zeroizing;

use super::select::{ReadArgs, value_of};
use super::{Exit, Globals, UsageError, output};
use agent_vault::environ::template;
use agent_vault::vault::Selection;

/// The largest template read.
const MAX_TEMPLATE: u64 = 16 << 20;

/// Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin.
///
/// The result goes to stdout only: agent-vault writes no file. Every placeholder's secret is
/// read in one pass (one fetch, one key load, one signature check); one that cannot be read is
/// an error naming it, and nothing is written. Other `{{ … }}` (Helm, Jinja) are left alone; a
/// placeholder that starts with `{{ agent-vault://` but does not parse is an error giving its
/// line.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault inject < config.yml.tpl > config.yml\n  agent-vault inject --agent deploy-bot < app.conf.tpl | my-app --config /dev/stdin\n\nTemplate:\n  database_url: \"{{ agent-vault://db/url }}\"\n  api_key: {{agent-vault://stripe/api-key}}"
)]
pub struct Args {
    #[command(flatten)]
    read: ReadArgs,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_TEMPLATE + 1)
        .read_to_end(&mut input)
        .context("cannot read the template from stdin")?;
    if input.len() as u64 > MAX_TEMPLATE {
        return Err(UsageError(
            "the template on stdin is larger than 16 MiB; is it the right file?".into(),
        )
        .into());
    }
    let paths = template::references(&input)?;
    if paths.is_empty() {
        output::warn(
            "the template has no {{ agent-vault://PATH }} placeholder; it is written unchanged",
        );
        output::stdout_bytes(&input)?;
        return Ok(Exit::Ok);
    }
    let selection = Selection {
        groups: Vec::new(),
        secrets: paths,
    };
    let bulk = args.read.read(&globals.open()?, &selection)?;
    let rendered = template::render(&input, |path| value_of(&bulk, path))?;
    output::stdout_bytes(&rendered)?;
    Ok(Exit::Ok)
}

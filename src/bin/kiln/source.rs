//! Reading kernels out of a Rust source file with the macro's own front end.

use kiln::Kernel;
use std::path::Path;

/// The kernels of `file` (only the one named `only`, if given), front-end errors reported as
/// `file:line:col: message` lines.
pub fn load(file: &Path, only: Option<&str>) -> Result<Vec<Kernel>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let sources = kiln::dsl::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let mut kernels = Vec::new();
    for source in &sources {
        if only.is_some_and(|n| n != source.name) {
            continue;
        }
        match &source.result {
            Ok(program) => kernels.push(Kernel::from_program(program.clone()).map_err(|e| e.to_string())?),
            Err(errors) => {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| {
                        let at = e.span.start();
                        format!("{}:{}:{}: {}", file.display(), at.line, at.column + 1, e.message)
                    })
                    .collect();
                return Err(lines.join("\nerror: "));
            }
        }
    }
    if kernels.is_empty() {
        return Err(match only {
            Some(n) => format!("no kernel `{n}` in {} (kernels: {})", file.display(), names.join(", ")),
            None => format!("no #[kernel] functions in {}", file.display()),
        });
    }
    Ok(kernels)
}

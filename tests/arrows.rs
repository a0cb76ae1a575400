//! The arrows between the top-level modules of `src/`: every `crate::` path in code (comments
//! aside) must be one its module's row in docs/architecture.md allows. The table lives only
//! there; three rules hold whatever the table says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DOC: &str = "docs/architecture.md";
const TABLE_START: &str = "<!-- allowed imports: read by tests/arrows.rs -->";

/// Rules the table cannot relax: `(importer, imported)`; `*` is every module.
const NEVER: &[(&str, &str, &str)] = &[
    (
        "routes",
        "ui",
        "the API and the dashboard call shared services, not each other",
    ),
    (
        "ui",
        "routes",
        "the API and the dashboard call shared services, not each other",
    ),
    (
        "*",
        "startup",
        "start-up builds everything; nothing builds on it",
    ),
    (
        "storage",
        "http",
        "storage knows the domain and nothing above it",
    ),
    (
        "storage",
        "ingest",
        "storage knows the domain and nothing above it",
    ),
    (
        "storage",
        "trackers",
        "storage knows the domain and nothing above it",
    ),
];

/// Lines known to break a rule while the work that removes them is under way, as
/// `(file under src/, imported module)`; each must still be there, so the list only shrinks.
const PENDING: &[(&str, &str)] = &[];

/// The entry points (`cli` starts `startup`), which may import anything.
const ROOTS: &[&str] = &["lib", "main", "cli"];

#[test]
fn every_import_is_one_the_architecture_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let allowed = allowed_imports(&std::fs::read_to_string(root.join(DOC)).unwrap());
    let imports = imports_by_file(&root.join("src"));
    let mut broken = Vec::new();
    let mut pending_seen = BTreeSet::new();
    for (file, targets) in &imports {
        let from = module_of(file);
        if ROOTS.contains(&from.as_str()) {
            continue;
        }
        for (to, line) in targets {
            let pending = PENDING.contains(&(file.as_str(), to.as_str()));
            let never = NEVER
                .iter()
                .find(|(a, b, _)| (*a == "*" || *a == from) && b == to);
            let why = match never {
                Some((_, _, why)) => Some(format!("never: {why}")),
                None => match allowed.get(&from) {
                    None => Some(format!("`{from}` has no row in {DOC}")),
                    Some(ok) if !ok.contains(to) => Some(format!("not in `{from}`'s row")),
                    Some(_) => None,
                },
            };
            match why {
                Some(_) if pending => {
                    pending_seen.insert((file.clone(), to.clone()));
                }
                Some(why) => broken.push(format!("src/{file}:{line}: {from} -> {to} ({why})")),
                None => {}
            }
        }
    }
    for (file, to) in PENDING {
        if !pending_seen.contains(&(file.to_string(), to.to_string())) {
            broken.push(format!(
                "PENDING lists src/{file} -> {to}, which no longer occurs: delete the entry"
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "arrows that break {DOC}:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_scanner_reads_paths_groups_and_skips_comments() {
    let code = "use crate::{a::B, c, d::{e, f}};\n// crate::g\nlet x = crate::h::i(); // crate::j\n/// [`crate::k`]\nuse crate::self_ref;\n$crate::m\n";
    let found: Vec<_> = crate_paths(code).into_iter().map(|(m, _)| m).collect();
    assert_eq!(found, ["a", "c", "d", "h", "self_ref"]);
    let table = format!("x\n{TABLE_START}\n| module | may import |\n| --- | --- |\n| `a` | `b`, `c` |\n| `d` | none |\n\nafter\n| `z` | `y` |\n");
    let allowed = allowed_imports(&table);
    assert_eq!(
        allowed["a"],
        BTreeSet::from(["b".to_owned(), "c".to_owned()])
    );
    assert!(allowed["d"].is_empty());
    assert!(!allowed.contains_key("z"));
}

/// The table after [`TABLE_START`]: `| \`module\` | \`a\`, \`b\` |` rows up to the first line
/// that is not a table row.
fn allowed_imports(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    let start = doc
        .find(TABLE_START)
        .expect("the allowed-imports table's marker");
    let mut table = BTreeMap::new();
    for line in doc[start + TABLE_START.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
    {
        let Some(row) = line.trim().strip_prefix('|') else {
            break;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(module), Some(imports)) = (cells.first(), cells.get(1)) else {
            continue;
        };
        let Some(module) = module.strip_prefix('`').and_then(|m| m.strip_suffix('`')) else {
            continue;
        };
        let imports = imports
            .split(',')
            .filter_map(|i| i.trim().strip_prefix('`')?.strip_suffix('`'))
            .map(str::to_owned)
            .collect();
        table.insert(module.to_owned(), imports);
    }
    table
}

/// Each file under `src/` (relative path) and the top-level modules its code names.
fn imports_by_file(src: &Path) -> BTreeMap<String, Vec<(String, usize)>> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let from = module_of(&rel);
            let code = std::fs::read_to_string(&path).unwrap();
            let targets = crate_paths(&code)
                .into_iter()
                .filter(|(to, _)| *to != from)
                .collect();
            (rel, targets)
        })
        .collect()
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// `ui/campaigns/page.rs` is `ui`; `quality_tests.rs` belongs to `quality`.
fn module_of(file: &str) -> String {
    let first = file.split('/').next().unwrap().trim_end_matches(".rs");
    first.strip_suffix("_tests").unwrap_or(first).to_owned()
}

/// The first segment after each `crate::` in code, with its line; a `crate::{a, b::c}` group
/// gives each member's first segment. Line comments (doc comments too) are not code.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let stripped: String = code
        .lines()
        .map(|l| {
            let l = if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            };
            match l.find(" //") {
                Some(i) => &l[..i],
                None => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = stripped.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = stripped[at..].find("crate::") {
        let start = at + i;
        at = start + "crate::".len();
        let before = start.checked_sub(1).map(|b| bytes[b]);
        if before.is_some_and(|b| b == b'$' || b == b'_' || b.is_ascii_alphanumeric()) {
            continue;
        }
        let line = stripped[..start].matches('\n').count() + 1;
        if bytes.get(at) == Some(&b'{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut members = Vec::new();
            for c in stripped[at..].chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        members.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    members.push(std::mem::take(&mut item));
                    break;
                }
                // The group's own opening brace is not part of a member.
                if !(depth == 1 && c == '{') {
                    item.push(c);
                }
            }
            for m in members {
                if let Some(first) = first_segment(&m) {
                    found.push((first, line));
                }
            }
        } else if let Some(first) = first_segment(&stripped[at..]) {
            found.push((first, line));
        }
    }
    found.retain(|(m, _)| m != "self");
    found
}

fn first_segment(s: &str) -> Option<String> {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_owned())
}

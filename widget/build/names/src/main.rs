//! `nps-widget-names in.wasm in.js out.wasm out.js`: renames the wasm's imports and exports to
//! short names and rewrites the wasm-bindgen glue to match.
//!
//! wasm-bindgen names every import `__wbg_<method>_<16 hex digits>` and exports closure shims
//! under their full Rust paths; the same names appear in the wasm and in the glue, and the hex
//! hashes do not compress (about 1 KB of gzip across both files). `mount`, `unmount` and `memory`
//! keep their names. The module is parsed with `wasmparser`; the import and export sections are
//! written anew with `wasm-encoder`, every other section is copied byte for byte.

use std::collections::HashMap;
use std::process::ExitCode;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ExportSection, ImportSection, Module, RawSection};
use wasmparser::{Parser, Payload};

/// Names the page or the loader call: never renamed.
const KEEP: [&str; 3] = ["memory", "mount", "unmount"];

/// What `wasm-streams`' own exports are called (its `IntoUnderlying*` stream adapters): the shim
/// in `widget/shims/wasm-streams` exists to keep them (7 KB gzip) out of the widget.
const WASM_STREAMS_EXPORT: &str = "intounderlying";

/// Short names, given in the order the names first appear (imports, then exports).
#[derive(Default)]
pub struct Renames {
    map: HashMap<String, String>,
    order: Vec<String>,
}

impl Renames {
    /// The short name of `name` (`$0`, `$1`, … `$a`, base 36), or `name` itself if kept.
    pub fn short(&mut self, name: &str) -> String {
        if KEEP.contains(&name) {
            return name.to_string();
        }
        if let Some(s) = self.map.get(name) {
            return s.clone();
        }
        let s = format!("${}", base36(self.order.len()));
        self.map.insert(name.to_string(), s.clone());
        self.order.push(name.to_string());
        s
    }

    /// How many names were renamed.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing was renamed.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

fn base36(mut n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[n % 36]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The module with its import and export names shortened.
pub fn rename_module(wasm: &[u8], renames: &mut Renames) -> Result<Vec<u8>, String> {
    let mut module = Module::new();
    let mut re = RoundtripReencoder;
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(err)?;
        match payload {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ImportSection(reader) => {
                let mut imports = ImportSection::new();
                for import in reader.into_imports() {
                    let import = import.map_err(err)?;
                    let ty = re.entity_type(import.ty).map_err(|e| e.to_string())?;
                    imports.import(import.module, &renames.short(import.name), ty);
                }
                module.section(&imports);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                for export in reader {
                    let export = export.map_err(err)?;
                    if export.name.contains(WASM_STREAMS_EXPORT) {
                        return Err(format!(
                            "wasm-streams' export {} is back: the shim (widget/shims/wasm-streams) no longer applies, probably after a Leptos upgrade (see widget/README.md, Upgrading)",
                            export.name
                        ));
                    }
                    let kind = re.export_kind(export.kind).map_err(|e| e.to_string())?;
                    exports.export(&renames.short(export.name), kind, export.index);
                }
                module.section(&exports);
            }
            other => {
                // Every other section as it is (the code section comes as one piece).
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection {
                        id,
                        data: &wasm[range],
                    });
                }
            }
        }
    }
    Ok(module.finish())
}

/// The glue with every identifier that names a renamed import or export replaced (whole
/// identifiers only: `[A-Za-z0-9_$]` runs). Refuses a short name the glue already uses.
pub fn rename_glue(js: &str, renames: &Renames) -> Result<String, String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut tokens: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut in_ident = false;
    for (i, c) in js.char_indices() {
        if is_ident(c) != in_ident {
            if i > start {
                tokens.push((in_ident, &js[start..i]));
            }
            start = i;
            in_ident = !in_ident;
        }
    }
    tokens.push((in_ident, &js[start..]));
    let shorts: std::collections::HashSet<&str> =
        renames.map.values().map(String::as_str).collect();
    if let Some((_, t)) = tokens.iter().find(|(id, t)| *id && shorts.contains(t)) {
        return Err(format!("{t} already occurs in the glue"));
    }
    Ok(tokens
        .into_iter()
        .map(|(id, t)| match (id, renames.map.get(t)) {
            (true, Some(s)) => s.as_str(),
            _ => t,
        })
        .collect())
}

fn run(args: &[String]) -> Result<usize, String> {
    let [in_wasm, in_js, out_wasm, out_js] = args else {
        return Err("usage: nps-widget-names in.wasm in.js out.wasm out.js".into());
    };
    let read = |p: &String| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
    let mut renames = Renames::default();
    let wasm = rename_module(&read(in_wasm)?, &mut renames)?;
    let js = String::from_utf8(read(in_js)?).map_err(|e| format!("{in_js}: {e}"))?;
    let js = rename_glue(&js, &renames)?;
    std::fs::write(out_wasm, wasm).map_err(|e| format!("{out_wasm}: {e}"))?;
    std::fs::write(out_js, js).map_err(|e| format!("{out_js}: {e}"))?;
    Ok(renames.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(n) => {
            eprintln!("shorten-names: {n} imports/exports renamed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shorten-names: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_stable_and_kept_where_they_must() {
        let mut r = Renames::default();
        assert_eq!(r.short("__wbg_log_0123456789abcdef"), "$0");
        assert_eq!(r.short("mount"), "mount");
        assert_eq!(r.short("__wbg_log_0123456789abcdef"), "$0");
        for i in 1..40 {
            r.short(&format!("n{i}"));
        }
        assert_eq!(r.short("n10"), "$a");
        assert_eq!(r.short("n36"), "$10");
        assert_eq!(r.len(), 40);
    }

    #[test]
    fn a_module_keeps_every_other_byte_and_the_glue_follows() {
        let wat = wasm_encoder_module();
        let mut r = Renames::default();
        let out = rename_module(&wat, &mut r).unwrap();
        wasmparser::validate(&out).unwrap();
        let names: Vec<String> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                Payload::ImportSection(s) => Some(
                    s.into_imports()
                        .map(|i| i.unwrap().name.to_string())
                        .collect::<Vec<_>>(),
                ),
                Payload::ExportSection(s) => {
                    Some(s.into_iter().map(|e| e.unwrap().name.to_string()).collect())
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(names, ["$0", "$1", "memory", "mount"]);
        let js = "imports.wbg.__wbg_now_0123456789abcdef = function() {};\nwasm.__wbg_closure_shim(1); x.__wbg_now_0123456789abcdefX;";
        assert_eq!(
            rename_glue(js, &r).unwrap(),
            "imports.wbg.$0 = function() {};\nwasm.$1(1); x.__wbg_now_0123456789abcdefX;"
        );
        assert!(
            rename_glue("let $0 = 1;", &r).is_err(),
            "a clash is refused"
        );
    }

    #[test]
    fn wasm_streams_exports_fail_the_build() {
        use wasm_encoder::*;
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut exports = ExportSection::new();
        exports.export("intounderlyingsource_pull", ExportKind::Func, 0);
        m.section(&exports);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().end();
        code.function(&f);
        m.section(&code);
        let e = rename_module(&m.finish(), &mut Renames::default()).unwrap_err();
        assert!(e.contains("shim"), "{e}");
    }

    /// A module with two imports, a memory, two exports and a code section.
    fn wasm_encoder_module() -> Vec<u8> {
        use wasm_encoder::*;
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import("wbg", "__wbg_now_0123456789abcdef", EntityType::Function(0));
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        funcs.function(0);
        m.section(&funcs);
        let mut mem = MemorySection::new();
        mem.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        m.section(&mem);
        let mut exports = ExportSection::new();
        exports.export("__wbg_closure_shim", ExportKind::Func, 1);
        exports.export("memory", ExportKind::Memory, 0);
        exports.export("mount", ExportKind::Func, 2);
        m.section(&exports);
        let mut code = CodeSection::new();
        for _ in 0..2 {
            let mut f = Function::new([]);
            f.instructions().end();
            code.function(&f);
        }
        m.section(&code);
        m.finish()
    }
}

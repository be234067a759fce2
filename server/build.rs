//! Compiles the upstream Kubernetes protobuf schemas in proto/ (see
//! proto/ORIGIN.md) into one FileDescriptorSet that src/protobuf.rs decodes
//! request bodies with. protox is a protobuf compiler in Rust: no protoc needed.

fn main() {
    let root = std::path::Path::new("proto");
    println!("cargo:rerun-if-changed=proto");
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    let set = protox::Compiler::new([root])
        .and_then(|mut c| {
            c.include_imports(true);
            for f in &files {
                c.open_file(f.strip_prefix(root).expect("under proto/"))?;
            }
            Ok(c.encode_file_descriptor_set())
        })
        .unwrap_or_else(|e| panic!("compiling proto/: {e}"));
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("k8s.fds");
    std::fs::write(&out, set).expect("writing the descriptor set");
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("reading proto/").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "proto") {
            out.push(p);
        }
    }
}

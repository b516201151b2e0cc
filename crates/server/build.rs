//! Embeds the console's templates (`console/templates`) into the binary, so the one
//! file it ships as needs nothing beside it.

use std::path::Path;

const TEMPLATES: &str = "console/templates";

fn main() {
    minijinja_embed::embed_templates!(TEMPLATES);
    // minijinja-embed watches the directory, whose time changes only when a file is
    // added or removed; an edited template must rebuild too.
    watch(Path::new(TEMPLATES));
}

fn watch(directory: &Path) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            watch(&path);
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

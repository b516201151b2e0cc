//! Embeds the console's templates (`console/templates`) into the binary, so the one
//! file it ships as needs nothing beside it.

fn main() {
    minijinja_embed::embed_templates!("console/templates");
}

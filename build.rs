// `sqlx::migrate!` embeds the migrations at compile time; without this, adding a migration file
// does not rebuild the crate and the binary silently runs the old schema.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

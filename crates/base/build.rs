//! The catalogs in assets/locales are compiled in by rust-i18n's macro, which does not tell cargo
//! it read them: without this, a changed catalog would not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../assets/locales");
}

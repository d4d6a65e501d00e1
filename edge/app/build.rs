//! Compiles the invitation e-mail from MJML to HTML (mrml) into `OUT_DIR/invitation.html`. Its
//! `{{name}}` slots survive the compiler and are filled per recipient by `crate::mail`.

use std::{env, fs, path::Path};

fn main() {
    let src = "mail/invitation.mjml";
    println!("cargo:rerun-if-changed={src}");
    let mjml = fs::read_to_string(src).expect("read mail/invitation.mjml");
    let root = mrml::parse(&mjml).expect("mail/invitation.mjml is valid MJML");
    // No web fonts: the template names system fonts, and an e-mail that loads a font from a
    // third party tells it who opened the e-mail.
    let opts = mrml::prelude::render::RenderOptions {
        disable_comments: true,
        fonts: Default::default(),
        ..Default::default()
    };
    let html = root
        .element
        .render(&opts)
        .expect("mail/invitation.mjml renders");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("invitation.html");
    fs::write(out, html).expect("write invitation.html");
}

//! The languages people read keyconsole in. Catalogs are `assets/locales/<code>.yml`, compiled in
//! by rust-i18n and looked up by key; a key missing from either catalog fails a test
//! (`tests/console/catalogs.rs`).
//!
//! The language of the text being made is per thread: the console sets it at the top of every
//! frame, an API request renders its error in the language it asked for, the CLI stays English.
//! Per thread rather than global, so concurrent tests (and the API's workers) cannot change each
//! other's language.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Language {
    #[default]
    English,
    SimplifiedChinese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::SimplifiedChinese];

    /// The catalog's name (and the cloud's `X-TC-Language` value for Chinese).
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::SimplifiedChinese => "zh-CN",
        }
    }

    /// The language's name in itself, as a language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::SimplifiedChinese => "简体中文",
        }
    }

    /// A POSIX locale (`zh_CN.UTF-8`, `zh_SG`, `en_US`) or a language tag (`zh-CN`, `zh-Hans`).
    /// Chinese other than Traditional (Taiwan, Hong Kong, Macao, `Hant`) is Simplified Chinese.
    pub fn from_locale(locale: &str) -> Option<Language> {
        let name = locale
            .split(['.', '@'])
            .next()
            .unwrap_or("")
            .replace('_', "-");
        let lower = name.to_ascii_lowercase();
        let mut parts = lower.split('-');
        match parts.next() {
            Some("zh") => {
                let traditional = parts.any(|p| matches!(p, "tw" | "hk" | "mo" | "hant"));
                (!traditional).then_some(Language::SimplifiedChinese)
            }
            Some("en") => Some(Language::English),
            _ => None,
        }
    }

    /// The language the environment asks for, as gettext reads it: `LANGUAGE` (a list, first
    /// match wins) unless the locale is C/POSIX, then `LC_ALL`, `LC_MESSAGES`, `LANG`. English when
    /// nothing asks for a language keyconsole has.
    pub fn from_env() -> Language {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Language {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let locale = set("LC_ALL")
            .or_else(|| set("LC_MESSAGES"))
            .or_else(|| set("LANG"));
        let is_c = |l: &str| l == "C" || l == "POSIX" || l.starts_with("C.");
        if locale.as_deref().is_some_and(|l| !is_c(l))
            && let Some(list) = set("LANGUAGE")
            && let Some(language) = list.split(':').find_map(Language::from_locale)
        {
            return language;
        }
        locale
            .as_deref()
            .and_then(Language::from_locale)
            .unwrap_or_default()
    }
}

thread_local! {
    static CURRENT: Cell<Language> = const { Cell::new(Language::English) };
}

/// The language text made on this thread is in.
pub fn current() -> Language {
    CURRENT.with(Cell::get)
}

/// Makes this thread's text `language` from now on.
pub fn set_current(language: Language) {
    CURRENT.with(|c| c.set(language));
}

/// Runs `f` with this thread's text in `language`, then puts the previous language back.
pub fn with_language<R>(language: Language, f: impl FnOnce() -> R) -> R {
    struct Restore(Language);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_current(self.0);
        }
    }
    let _restore = Restore(current());
    set_current(language);
    f()
}

/// The catalog's text for `key` in `language`, `None` when the catalog lacks it.
pub fn lookup(language: Language, key: &str) -> Option<String> {
    crate::_rust_i18n_try_translate(language.code(), key).map(|c| c.into_owned())
}

/// Every key of `language`'s catalog (for the test that both catalogs have the same keys).
pub fn keys(language: Language) -> Vec<String> {
    crate::_rust_i18n_backend()
        .messages_for_locale(language.code())
        .unwrap_or_default()
        .into_iter()
        .map(|(key, _)| key.into_owned())
        .collect()
}

/// Text looked up by key in this thread's language: `tr!("ui.keys.create_key")`,
/// `tr!("ui.keys.shown_of_total_keys", shown = n, total = m)` for the catalog entry
/// `"%{shown} of %{total} keys"`.
#[macro_export]
macro_rules! tr {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::util::i18n::translate(
            $crate::util::i18n::current(),
            $key,
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),*],
        )
    };
}

/// What `tr!` expands to: the catalog's template for `key` in `language` (English, then the key
/// itself, when it lacks one) with its `%{name}`s filled in.
pub fn translate(language: Language, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let template = lookup(language, key)
        .or_else(|| lookup(Language::English, key))
        .unwrap_or_else(|| key.to_owned());
    if args.is_empty() {
        return template;
    }
    let names: Vec<&str> = args.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = args.iter().map(|(_, value)| value.to_string()).collect();
    rust_i18n::replace_patterns(&template, &names, &values)
}

/// A message to be read later, perhaps in another language than the one current now: the
/// engine's errors carry one, and the API renders it in the language a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The catalog key; empty for text that is not in the catalog (a database server's words).
    key: &'static str,
    /// Values for the template's `%{name}`s; a value may itself be text from the catalog.
    args: Vec<(&'static str, Text)>,
    verbatim: String,
}

impl Text {
    pub fn new(key: &'static str, args: Vec<(&'static str, Text)>) -> Self {
        Self {
            key,
            args,
            verbatim: String::new(),
        }
    }

    /// Text shown as it is in every language (what another program said, a path, a number).
    pub fn verbatim(text: impl Into<String>) -> Self {
        Self {
            key: "",
            args: Vec::new(),
            verbatim: text.into(),
        }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// In the language of this thread's text.
    pub fn here(&self) -> String {
        self.render(current())
    }

    pub fn render(&self, language: Language) -> String {
        if self.key.is_empty() {
            return self.verbatim.clone();
        }
        let template = lookup(language, self.key).unwrap_or_else(|| self.key.to_owned());
        let names: Vec<&str> = self.args.iter().map(|(name, _)| *name).collect();
        let values: Vec<String> = self.args.iter().map(|(_, v)| v.render(language)).collect();
        rust_i18n::replace_patterns(&template, &names, &values)
    }
}

/// What can fill a `%{name}` of a [`Text`]: anything printable, shown as it is, or another
/// [`Text`], rendered in the same language.
pub trait TextArg {
    fn to_text(&self) -> Text;
}

impl<T: std::fmt::Display + ?Sized> TextArg for T {
    fn to_text(&self) -> Text {
        Text::verbatim(self.to_string())
    }
}

impl TextArg for Text {
    fn to_text(&self) -> Text {
        self.clone()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::verbatim(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text::verbatim(text.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::verbatim(text)
    }
}

/// A [`Text`] to render later: `text!("errors.key_key_id_does_not_exist", key_id = id)`.
#[macro_export]
macro_rules! text {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::util::i18n::Text::new(
            $key,
            vec![$((stringify!($name), $crate::util::i18n::TextArg::to_text(&$value))),*],
        )
    };
}

#[cfg(test)]
mod tests {
    use super::Language::{self, *};

    #[test]
    fn locales_name_languages() {
        for (locale, want) in [
            ("zh_CN.UTF-8", Some(SimplifiedChinese)),
            ("zh_SG", Some(SimplifiedChinese)),
            ("zh-Hans-CN", Some(SimplifiedChinese)),
            ("zh_TW.UTF-8", None),
            ("zh-Hant", None),
            ("en_US.UTF-8", Some(English)),
            ("de_DE", None),
            ("C.UTF-8", None),
        ] {
            assert_eq!(Language::from_locale(locale), want, "{locale}");
        }
    }

    #[test]
    fn the_environment_is_read_as_gettext_reads_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            Language::from_vars(env(&[("LANG", "zh_CN.UTF-8")])),
            SimplifiedChinese
        );
        assert_eq!(
            Language::from_vars(env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "en_US.UTF-8")])),
            English
        );
        assert_eq!(
            Language::from_vars(env(&[("LANG", "en_US.UTF-8"), ("LANGUAGE", "fr:zh_CN")])),
            SimplifiedChinese
        );
        // LANGUAGE is ignored under the C locale, as gettext does.
        assert_eq!(
            Language::from_vars(env(&[("LANG", "C.UTF-8"), ("LANGUAGE", "zh_CN")])),
            English
        );
        assert_eq!(Language::from_vars(env(&[])), English);
    }

    /// Every key named in the source by the `tr!` and `text!` macros, from `dir` down.
    fn keys_used_in(dir: &std::path::Path, keys: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                keys_used_in(&path, keys);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for macro_name in ["tr!(", "text!("] {
                    for (at, _) in source.match_indices(macro_name) {
                        let rest = source[at + macro_name.len()..].trim_start();
                        let Some(rest) = rest.strip_prefix('"') else {
                            continue;
                        };
                        let key = &rest[..rest.find('"').unwrap_or(0)];
                        // A key is a dotted name; anything else is this test's own text.
                        if key.contains('.')
                            && key
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "._".contains(c))
                        {
                            keys.insert(key.to_owned());
                        }
                    }
                }
            }
        }
    }

    fn placeholders(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .match_indices("%{")
            .map(|(at, _)| {
                let rest = &text[at + 2..];
                &rest[..rest.find('}').unwrap_or(0)]
            })
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn both_catalogs_have_every_key_the_source_uses_and_no_other() {
        let mut used = std::collections::BTreeSet::new();
        // Every crate of the workspace: this one's folder is crates/base.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        keys_used_in(&root.join("src"), &mut used);
        for krate in std::fs::read_dir(root.join("crates")).unwrap() {
            keys_used_in(&krate.unwrap().path().join("src"), &mut used);
        }
        // The doc examples of the macros name keys that do not exist.
        used.retain(|k| !k.is_empty());
        assert!(used.len() > 500, "found only {} keys", used.len());
        for language in Language::ALL {
            let have: std::collections::BTreeSet<String> =
                super::keys(language).into_iter().collect();
            let missing: Vec<&String> = used.difference(&have).collect();
            assert!(missing.is_empty(), "{language:?} lacks {missing:?}");
            let unused: Vec<&String> = have.difference(&used).collect();
            assert!(
                unused.is_empty(),
                "{language:?} has keys no code uses: {unused:?}"
            );
        }
    }

    #[test]
    fn translations_keep_every_placeholder() {
        for key in super::keys(English) {
            let english = super::lookup(English, &key).unwrap();
            let chinese = super::lookup(SimplifiedChinese, &key).unwrap();
            assert_eq!(placeholders(&english), placeholders(&chinese), "{key}");
        }
    }

    /// "No English string left": a Chinese entry is Chinese, except names that stay as they are
    /// in the Chinese cloud consoles too (API field names, SDK names, shortcuts).
    #[test]
    fn every_chinese_entry_is_in_chinese() {
        let as_is = [
            "errors.the_versionid",
            "ui.api_access.node_js_sdk",
            "ui.api_access.python_sdk",
            "ui.api_access.the_secretid",
            "ui.api_access.the_secretkey",
            "ui.app.keyconsole",
            "ui.files.progress",
            "ui.key_detail.the_keyid",
            "ui.keys.ctrl_n",
            "ui.online_tools.ctrl_enter",
            "ui.unlock.keyconsole",
        ];
        for key in super::keys(SimplifiedChinese) {
            let text = super::lookup(SimplifiedChinese, &key).unwrap();
            let chinese = text.chars().any(|c| {
                ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
            });
            assert!(
                chinese || as_is.contains(&key.as_str()),
                "{key} is not translated: {text}"
            );
        }
    }

    #[test]
    fn text_renders_in_either_language_and_verbatim_text_stays() {
        let text = crate::text!("errors.key_key_id_does_not_exist", key_id = "abc");
        assert!(text.render(English).contains("abc"));
        assert!(text.render(SimplifiedChinese).contains("abc"));
        assert_ne!(text.render(English), text.render(SimplifiedChinese));
        // A placeholder may appear twice; both take the value.
        let twice = crate::text!(
            "errors.the_header_header_disagrees_with_the_signed",
            header = "X-TC-Action",
            name = "Action"
        );
        assert_eq!(
            twice.render(English),
            "The X-TC-Action header disagrees with the signed Action parameter; a v1-signed \
             request takes its Action only from what it signed."
        );
        let verbatim = super::Text::verbatim("Access denied for user");
        assert_eq!(verbatim.render(SimplifiedChinese), "Access denied for user");
    }
}

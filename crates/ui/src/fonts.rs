//! Chinese on any machine. eframe's system font provider is asked first and finds the desktop's
//! CJK font where there is one; where there is none (a bare server, a minimal container, the
//! snapshot tests), this bundled fallback answers: Noto Sans CJK SC cut down to the common hanzi
//! of GB 2312 level 1 and every character of the Chinese catalog (`scripts/make_cjk_font.sh`,
//! SIL Open Font License, `assets/fonts/OFL.txt`).

use std::sync::Arc;

use egui::{FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};
use skrifa::MetadataProvider;

pub const CJK_FALLBACK: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-keyconsole.otf");

/// Whether the bundled fallback has a glyph for `c`.
pub fn fallback_has(c: char) -> bool {
    skrifa::FontRef::new(CJK_FALLBACK).is_ok_and(|font| font.charmap().map(c).is_some())
}

/// Adds the bundled CJK font as the last place to look for a character no other font has.
pub fn install_cjk_fallback(ctx: &egui::Context) {
    ctx.add_font_provider(Arc::new(|request: &egui::FallbackRequest<'_>| {
        let c = request.cluster.chars().next()?;
        fallback_has(c).then(|| {
            FontInsert::new(
                "keyconsole-cjk",
                FontData::from_static(CJK_FALLBACK),
                [FontFamily::Proportional, FontFamily::Monospace]
                    .into_iter()
                    .map(|family| InsertFontFamily {
                        family,
                        priority: FontPriority::Lowest,
                    })
                    .collect(),
            )
        })
    }));
}

#[cfg(test)]
mod tests {
    use keyconsole_base::util::i18n::{self, Language};

    /// Never tofu: every Chinese character the catalog shows is in the bundled font (emoji and
    /// Latin come from egui's own fonts).
    #[test]
    fn the_fallback_covers_every_chinese_character_of_the_catalog() {
        let mut missing = std::collections::BTreeSet::new();
        for key in i18n::keys(Language::SimplifiedChinese) {
            let text = i18n::lookup(Language::SimplifiedChinese, &key).unwrap_or_default();
            for c in text.chars() {
                let cjk = ('\u{3000}'..='\u{9fff}').contains(&c)
                    || ('\u{ff00}'..='\u{ffef}').contains(&c)
                    || "“”‘’…—·".contains(c);
                if cjk && !super::fallback_has(c) {
                    missing.insert(c);
                }
            }
        }
        assert!(
            missing.is_empty(),
            "run scripts/make_cjk_font.sh; missing: {missing:?}"
        );
        // And the common hanzi a user types into an alias or a description.
        assert!(
            "密钥管理数据库凭据轮换测试"
                .chars()
                .all(super::fallback_has)
        );
    }
}

//! Chinese on any machine. eframe's system font provider is asked first and finds the desktop's
//! CJK font where there is one; where there is none (a bare server, a minimal container, the
//! snapshot tests), this bundled fallback answers: Noto Sans CJK SC cut down to its hanzi (30,289
//! ideographs: the basic block whole, extensions A to H as far as the font has them, so the 8,105
//! characters of the Table of General Standard Chinese Characters, rare name characters and the
//! traditional forms), CJK punctuation and every character of the Chinese catalog; 7.3 MB
//! (`scripts/make_cjk_font.sh`, SIL Open Font License, `assets/fonts/OFL.txt`).

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
        // And what a user types into an alias, a description or a secret's name: every character
        // of the basic block as GBK has it, names such as 喆 and 堃, traditional forms, and the
        // General Standard Table's characters outside the basic block (the element names).
        let missing: Vec<char> = ('\u{4e00}'..='\u{9fa5}')
            .filter(|&c| !super::fallback_has(c))
            .collect();
        assert!(
            missing.is_empty(),
            "missing {} of U+4E00..U+9FA5",
            missing.len()
        );
        for c in
            "密钥管理数据库凭据轮换测试喆堃鑫玥珺旻鑰匙資料庫憑據輪換𬬻𬭊𬭳𬭛𬭶鿏𫟼𫓧𫟷".chars()
        {
            assert!(super::fallback_has(c), "{c} (U+{:X})", c as u32);
        }
    }
}

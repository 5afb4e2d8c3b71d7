//! The console in Simplified Chinese: it follows the system's locale, switches in Settings at
//! once and remembers it, and no English phrase is left on the screens a user walks through.

use crate::harness::{Console, PASSWORD};
use keyconsole::util::i18n::Language;

/// Texts on screen that hold two English words in a row ("Create key"): untranslated text.
/// Data the user typed (aliases like `db-password`) and names kept as they are have no such run.
fn english_phrases(console: &Console) -> Vec<String> {
    console
        .texts()
        .into_iter()
        .filter(|text| {
            let words: Vec<&str> = text.split_whitespace().collect();
            words.windows(2).any(|pair| {
                pair.iter()
                    .all(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()))
            })
        })
        .collect()
}

fn assert_all_chinese(console: &Console, screen: &str) {
    let english = english_phrases(console);
    assert!(english.is_empty(), "English left on {screen}: {english:?}");
}

#[test]
fn the_console_speaks_the_system_language_and_switches_in_settings_at_once() {
    let mut console = Console::start_in(Language::SimplifiedChinese, Some(&["db-password"]));
    assert!(console.shows("解锁你的密钥库"));
    assert_all_chinese(&console, "the unlock screen");
    console.type_into("密码", "wrong password");
    console.click("解锁");
    console.wait_until("the answer", |c| c.shows("密码错误"));

    console.replace_in("密码", PASSWORD);
    console.click("解锁");
    console.wait_until("the unlock", |c| !c.app().is_locked());
    assert!(console.shows("显示 1 个，共 1 个密钥"));

    console.click("⚙ 设置");
    console.click("English");
    assert!(
        console.shows("1 of 1 keys"),
        "English at once, without a restart"
    );
    assert!(
        !english_phrases(&console).is_empty(),
        "the check finds English where there is some"
    );
    assert_eq!(
        console.app().preferences().language,
        Some(Language::English),
        "remembered with the preferences"
    );
    console.click("⚙ Settings");
    console.click("简体中文");
    assert!(console.shows("显示 1 个，共 1 个密钥"));
    console.click("⚙ 设置");
    console.click("跟随系统（简体中文）");
    assert_eq!(console.app().preferences().language, None);
}

#[test]
fn no_english_is_left_on_the_screens_of_a_chinese_console() {
    let mut console = Console::start_in(
        Language::SimplifiedChinese,
        Some(&["db-password", "payment-api"]),
    );
    console.type_into("密码", PASSWORD);
    console.click("解锁");
    console.wait_until("the unlock", |c| !c.app().is_locked());
    assert_all_chinese(&console, "the key list");

    console.click("➕ 创建密钥");
    console.type_into("别名", "kms-orders");
    assert!(
        console.shows("以保留前缀“kms-”开头"),
        "the rule's words in Chinese"
    );
    assert_all_chinese(&console, "the create dialog");
    console.click("取消");

    console.click("db-password");
    assert!(console.shows("在线工具"));
    console.type_into("明文", "S3cr3t!pass");
    console.click("执行");
    let blob = console.value_of("密文");
    assert_eq!(console.plaintext_of(&blob), b"S3cr3t!pass");
    assert_all_chinese(&console, "the key's page with Encrypt");

    console.click("解密");
    console.type_into("要解密的密文", "not a ciphertext");
    console.click("执行");
    assert!(
        console.shows("InvalidParameterValue.InvalidCiphertext"),
        "the code stays as it is"
    );
    assert!(console.shows("密文不是有效的 base64"));
    assert_all_chinese(&console, "a decrypt error");

    console.click("禁用");
    assert!(console.shows("使用它加密或解密的应用将收到"));
    assert_all_chinese(&console, "the question before disabling a key");
    console.click("禁用密钥");
    console.click("加密");
    console.replace_in("明文", "x");
    console.click("执行");
    assert!(console.shows("ResourceUnavailable.CmkDisabled"));
    assert!(console.shows("已禁用；请启用后再加密"));

    console.click("凭据");
    console.click("➕ 创建凭据");
    assert_all_chinese(&console, "the create-secret form");
    console.click("文件工具");
    assert_all_chinese(&console, "the file tools");
    console.click("API 访问");
    assert_all_chinese(&console, "the API access page");
    console.click("⚙ 设置");
    assert_all_chinese(&console, "the settings menu");
}

/// Chinese typed through an input method: the preedit (pinyin) shows while composing, and the
/// committed characters land in the field, in any of the console's text fields.
#[test]
fn chinese_from_an_input_method_goes_into_text_fields() {
    let mut console = Console::start_in(Language::SimplifiedChinese, Some(&["db-password"]));
    console.type_into("密码", PASSWORD);
    console.click("解锁");
    console.wait_until("the unlock", |c| !c.app().is_locked());
    let compose = |console: &mut Console, field: &str, pinyin: &str, hanzi: &str| {
        console.field(field).focus();
        console.harness.step();
        console
            .harness
            .event(egui::Event::Ime(egui::ImeEvent::Preedit {
                text: pinyin.to_owned(),
                active_range_chars: None,
            }));
        console.settle();
        console
            .harness
            .event(egui::Event::Ime(egui::ImeEvent::Commit(hanzi.to_owned())));
        console.settle();
        assert_eq!(console.value_of(field), hanzi, "{field}");
    };
    compose(&mut console, "搜索", "shujuku", "数据库");
    console.replace_in("搜索", "");
    console.click("➕ 创建密钥");
    compose(&mut console, "描述（可选）", "dingdan", "订单服务");
    console.click("取消");
    console.click("db-password");
    compose(&mut console, "明文", "mima", "数据库密码");
    console.click("执行");
    let blob = console.value_of("密文");
    assert_eq!(console.plaintext_of(&blob), "数据库密码".as_bytes());
}

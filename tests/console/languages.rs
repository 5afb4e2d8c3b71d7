//! The console in Simplified Chinese: it follows the system's locale, switches in Settings at
//! once and remembers it, and no English phrase is left on the screens a user walks through.

use crate::harness::{Console, PASSWORD};
use egui_kittest::kittest::Queryable;
use keyconsole::util::i18n::Language;

/// Texts on screen that hold two English words in a row ("Create key"): untranslated text.
/// Data the user typed (aliases like `db-password`) and names kept as they are have no such run.
/// egui's own names for a window's close button and resize handles: read by a screen reader, never
/// shown, and not ours to translate (the README says so).
fn egui_internal(text: &str) -> bool {
    text == "Close window" || text.starts_with("Resize window")
}

fn english_phrases(console: &Console) -> Vec<String> {
    console
        .texts()
        .into_iter()
        .filter(|text| !egui_internal(text))
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

/// The Chinese console through keyconsole's own file dialog and a database secret against a
/// private MariaDB (a wrong password, a right one, create, rotate), reading every screen,
/// question, notification and error on the way: no English phrase. The database's own refusal
/// is told in Chinese, with its code.
#[test]
fn the_chinese_console_through_the_file_dialog_and_a_database_secret() {
    use keyconsole::testing::database::PrivateDatabase;
    use keyconsole::util::database::DbEngine;

    let database = PrivateDatabase::start(DbEngine::MySql).expect("a private MariaDB");
    database.create_user("orders", "first password 1").unwrap();
    let mut console = Console::start_in(Language::SimplifiedChinese, Some(&["db-password"]));
    console.type_into("密码", PASSWORD);
    console.click("解锁");
    console.wait_until("the unlock", |c| !c.app().is_locked());

    // keyconsole's own file dialog, where the desktop has none.
    console.click("db-password");
    console.type_into("明文", "S3cr3t!pass");
    console.click("执行");
    console.dialogs.unavailable_next("测试：桌面没有文件选择器");
    console.click("⬇ 下载…");
    assert!(console.shows("新建文件夹"), "the dialog is open");
    assert_all_chinese(&console, "keyconsole's own file dialog");
    console
        .harness
        .get_all_by_label("取消")
        .last()
        .expect("the dialog's Cancel")
        .click();
    console.settle();

    // A database secret: test a wrong password, then the right one, create, rotate.
    console.click("凭据");
    console.click("➕ 创建凭据");
    console.type_into("名称", "orders-db");
    console.click("数据库凭据");
    console.replace_in("端口", &database.port.to_string());
    console.type_into("用户", "orders");
    console.type_into("密码", "wrong password");
    console.click("🔌 测试连接");
    console.wait_until("the refusal", |c| c.shows("用户名或密码错误"));
    assert!(console.shows("MySQL 1045"), "the code stays as it is");
    assert_all_chinese(&console, "a refused database login");
    console.replace_in("密码", "first password 1");
    console.click("🔌 测试连接");
    console.wait_until("the login", |c| c.shows("已登录"));
    assert_all_chinese(&console, "a database login");
    console.click("创建");
    console.wait_until("the secret", |c| c.shows("已创建数据库凭据 orders-db"));
    assert_all_chinese(&console, "a new database secret");
    console.click("🔄 立即轮转");
    assert!(console.shows("立即轮转 orders-db 的密码？"));
    assert_all_chinese(&console, "the question before a rotation");
    console.click("立即轮转");
    console.wait_until("the rotation", |c| c.shows("已轮转凭据 orders-db"));
    assert_all_chinese(&console, "a rotated database secret");

    // A rotation the database refuses: what failed and what to do, in Chinese.
    database
        .admin_execute("SET PASSWORD FOR 'orders'@'%' = PASSWORD('changed elsewhere')")
        .unwrap();
    console.click("🔄 立即轮转");
    console.click("立即轮转");
    console.wait_until("the failure", |c| c.shows("当前密码仍然有效"));
    assert!(console.shows("用户名或密码错误"));
    assert_all_chinese(&console, "a failed rotation");
}

//! Product secrets (the cloud's `CreateProductSecret`): keyconsole makes the application's
//! database account itself, through an administrator connection the user registered once as an
//! "instance", and keeps the account as a database secret that rotates like any other.
//!
//! An instance holds the administrator's endpoint and password; the password is sealed as a
//! secret's value is (a data key under the secrets manager's default key, bound to the instance's
//! id), so the keystore never holds it in the clear. Each creation is a task with a FlowID whose
//! outcome is kept in the keystore (the last `TASKS_KEPT`), so any process can answer
//! `DescribeAsyncRequestInfo` for it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::database::{CreateDatabaseSecret, login_with, random_password};
use super::record::{ProductAccount, SecretVersion};
use super::rules::{validate_description, validate_name};
use super::{SecretValue, default_key, open_version, seal_value};
use crate::Kms;
use crate::error::{ErrorCode, KmsError, Result, err};
use crate::tags::Tag;
use keyconsole_base::util::database::{DbEndpoint, DbEngine};
use keyconsole_base::util::db_accounts::{
    Grant, GrantLevel, NewAccount, allowed_privileges, is_plain_host, is_plain_name,
};

/// Tasks whose outcome the keystore keeps.
pub const TASKS_KEPT: usize = 100;
/// Instances a keystore holds.
pub const INSTANCES_MAX: usize = 100;
/// The user name is the prefix (at most 8, as the cloud allows), `_` and six letters or digits.
pub const USER_PREFIX_MAX: usize = 8;

/// A registered administrator connection, as the keystore holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbInstanceRecord {
    pub instance_id: String,
    /// The administrator's login.
    pub endpoint: DbEndpoint,
    /// The administrator's password, sealed.
    pub password: SecretVersion,
    pub create_time: i64,
}

/// What is shown of an instance (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    pub instance_id: String,
    pub endpoint: DbEndpoint,
    pub create_time: i64,
}

/// A product secret's creation: running, done, or failed with why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTask {
    pub flow_id: u64,
    pub secret_name: String,
    pub status: TaskStatus,
    /// What happened, in English and Chinese.
    pub description: String,
    #[serde(default)]
    pub description_zh: String,
    pub time: i64,
}

impl ProductTask {
    /// What happened, in `language` (English when the task has no Chinese).
    pub fn description_in(&self, language: keyconsole_base::util::i18n::Language) -> &str {
        match language {
            keyconsole_base::util::i18n::Language::SimplifiedChinese
                if !self.description_zh.is_empty() =>
            {
                &self.description_zh
            }
            _ => &self.description,
        }
    }
}

/// CreateProductSecret's inputs.
#[derive(Debug, Clone, Default)]
pub struct CreateProductSecret {
    pub name: String,
    pub description: String,
    /// A KeyId or alias; the secrets manager's default key when not given.
    pub key: Option<String>,
    pub instance_id: String,
    /// `Mysql` or `PostgreSQL`: must be the instance's engine.
    pub product: String,
    pub user_name_prefix: String,
    /// The hosts the account may log in from (MySQL/MariaDB): one, `%` when none is given.
    pub domains: Vec<String>,
    pub grants: Vec<Grant>,
    pub rotate_days: Option<u32>,
    /// When rotation (if on) first runs (Unix seconds); `rotate_days` from now when not given.
    pub rotation_begin: Option<i64>,
    pub tags: Vec<Tag>,
}

/// The products keyconsole makes accounts in (the cloud's `DescribeSupportedProducts` names).
pub const SUPPORTED_PRODUCTS: [&str; 2] = ["Mysql", "PostgreSQL"];

fn engine_of_product(product: &str) -> Option<DbEngine> {
    match product {
        "Mysql" => Some(DbEngine::MySql),
        "PostgreSQL" => Some(DbEngine::PostgreSql),
        _ => None,
    }
}

/// The name an instance's password is sealed under (no secret can be named so: `/`).
fn sealed_name(instance_id: &str) -> String {
    format!("instance/{instance_id}")
}

fn invalid(text: keyconsole_base::util::i18n::Text) -> KmsError {
    KmsError::new(ErrorCode::InvalidParameterValue, text)
}

fn validate_instance_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && id.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid(keyconsole_base::text!(
            "errors.instance_id_rule",
            id = id
        )))
    }
}

fn no_such_instance(id: &str) -> KmsError {
    KmsError::new(
        ErrorCode::SecretNotExist,
        keyconsole_base::text!("errors.no_instance_has_the_id", id = id),
    )
}

/// `prefix_` and six lowercase letters or digits.
fn new_user_name(prefix: &str) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let bytes: [u8; 6] = keyconsole_base::crypto::random_bytes();
    let suffix: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}_{suffix}")
}

impl Kms {
    /// Registers an administrator connection as instance `instance_id`, after logging in with it.
    pub fn add_db_instance(
        &self,
        instance_id: &str,
        endpoint: DbEndpoint,
        password: &str,
    ) -> Result<DbInstance> {
        validate_instance_id(instance_id)?;
        login_with(&*self.database_driver(), &endpoint, password)?;
        self.transact(|ring, now| {
            if ring
                .db_instances
                .iter()
                .any(|i| i.instance_id == instance_id)
            {
                return err(
                    ErrorCode::SecretExists,
                    keyconsole_base::text!("errors.instance_exists", id = instance_id),
                );
            }
            if ring.db_instances.len() >= INSTANCES_MAX {
                return err(
                    ErrorCode::LimitExceeded,
                    keyconsole_base::text!("errors.instances_max", max = INSTANCES_MAX),
                );
            }
            let key = default_key(ring, now)?;
            let sealed = seal_value(
                &mut ring.keys[key],
                &sealed_name(instance_id),
                "admin",
                &SecretValue::Text(Zeroizing::new(password.to_owned())),
                now,
            )?;
            ring.db_instances.push(DbInstanceRecord {
                instance_id: instance_id.to_owned(),
                endpoint: endpoint.clone(),
                password: sealed,
                create_time: now,
            });
            Ok(DbInstance {
                instance_id: instance_id.to_owned(),
                endpoint,
                create_time: now,
            })
        })
    }

    pub fn db_instances(&self) -> Vec<DbInstance> {
        self.ring()
            .db_instances
            .iter()
            .map(|i| DbInstance {
                instance_id: i.instance_id.clone(),
                endpoint: i.endpoint.clone(),
                create_time: i.create_time,
            })
            .collect()
    }

    /// Forgets an instance (its accounts and their secrets stay).
    pub fn remove_db_instance(&self, instance_id: &str) -> Result<()> {
        self.transact(|ring, _| {
            let before = ring.db_instances.len();
            ring.db_instances.retain(|i| i.instance_id != instance_id);
            if ring.db_instances.len() == before {
                return Err(no_such_instance(instance_id));
            }
            Ok(())
        })
    }

    /// CreateProductSecret: checks the request, records a task, makes the account in the
    /// database and keeps it as a database secret; the task says how it ended. Answers the
    /// secret's name and the task's FlowID (a refusal before the task starts is an error).
    pub fn create_product_secret(&self, request: CreateProductSecret) -> Result<(String, u64)> {
        let engine = self.check_product_request(&request)?;
        let (admin, admin_password) = self.instance_login(&request.instance_id)?;
        if admin.engine != engine {
            return Err(invalid(keyconsole_base::text!(
                "errors.instance_is_another_product",
                id = request.instance_id,
                product = request.product
            )));
        }
        let flow_id = self.record_task(
            &request.name,
            TaskStatus::Running,
            &keyconsole_base::text!("errors.making_the_account"),
        )?;
        let outcome = self.make_product_account(&request, &admin, &admin_password);
        let (status, text) = match &outcome {
            Ok(user) => (
                TaskStatus::Succeeded,
                keyconsole_base::text!("errors.product_secret_made", user = user.as_str()),
            ),
            Err(e) => (TaskStatus::Failed, e.text.clone()),
        };
        self.transact(|ring, _| {
            if let Some(task) = ring.product_tasks.iter_mut().find(|t| t.flow_id == flow_id) {
                task.status = status;
                task.description = text.render(keyconsole_base::util::i18n::Language::English);
                task.description_zh =
                    text.render(keyconsole_base::util::i18n::Language::SimplifiedChinese);
            }
            Ok(())
        })?;
        Ok((request.name, flow_id))
    }

    /// A new task for `secret_name` (a product secret's creation, a rotation), kept with the
    /// last `TASKS_KEPT`; answers its FlowID.
    pub(crate) fn record_task(
        &self,
        secret_name: &str,
        status: TaskStatus,
        text: &keyconsole_base::util::i18n::Text,
    ) -> Result<u64> {
        self.transact(|ring, now| {
            ring.next_flow_id += 1;
            let flow_id = ring.next_flow_id;
            ring.product_tasks.push(ProductTask {
                flow_id,
                secret_name: secret_name.to_owned(),
                status,
                description: text.render(keyconsole_base::util::i18n::Language::English),
                description_zh: text
                    .render(keyconsole_base::util::i18n::Language::SimplifiedChinese),
                time: now,
            });
            let excess = ring.product_tasks.len().saturating_sub(TASKS_KEPT);
            ring.product_tasks.drain(..excess);
            Ok(flow_id)
        })
    }

    /// DescribeAsyncRequestInfo: a task by its FlowID.
    pub fn product_task(&self, flow_id: u64) -> Result<ProductTask> {
        self.refresh()?;
        self.ring()
            .product_tasks
            .iter()
            .find(|t| t.flow_id == flow_id)
            .cloned()
            .ok_or_else(|| {
                KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    keyconsole_base::text!("errors.no_task_has_the_flow_id", id = flow_id),
                )
            })
    }

    /// Every rule before anything is done; the engine the product names.
    fn check_product_request(&self, request: &CreateProductSecret) -> Result<DbEngine> {
        validate_name(&request.name)?;
        validate_description(&request.description)?;
        self.check_secret_name(&request.name)?;
        crate::tags::validate_tags(&request.tags)?;
        if let Some(days) = request.rotate_days {
            super::rules::validate_rotation_days(days)?;
        }
        let engine = engine_of_product(&request.product).ok_or_else(|| {
            invalid(keyconsole_base::text!(
                "errors.product_not_supported",
                product = request.product,
                products = SUPPORTED_PRODUCTS.join(", ")
            ))
        })?;
        let prefix = &request.user_name_prefix;
        if !is_plain_name(prefix) || prefix.len() > USER_PREFIX_MAX {
            return Err(invalid(keyconsole_base::text!(
                "errors.user_name_prefix_rule",
                prefix = prefix,
                max = USER_PREFIX_MAX
            )));
        }
        match (engine, request.domains.as_slice()) {
            (DbEngine::MySql, [] | [_]) => {}
            (DbEngine::PostgreSql, []) => {}
            (DbEngine::PostgreSql, [any]) if any == "%" => {}
            _ => {
                return Err(invalid(keyconsole_base::text!(
                    "errors.domains_rule",
                    count = request.domains.len()
                )));
            }
        }
        if let Some(bad) = request.domains.iter().find(|d| !is_plain_host(d)) {
            return Err(invalid(keyconsole_base::text!(
                "errors.domain_not_a_host",
                domain = bad.as_str()
            )));
        }
        if request.grants.is_empty() {
            return Err(invalid(keyconsole_base::text!(
                "errors.no_privileges_given"
            )));
        }
        for grant in &request.grants {
            let allowed = allowed_privileges(engine, &grant.level);
            let names: Vec<&str> = match &grant.level {
                GrantLevel::Global => vec![],
                GrantLevel::Database(database) => vec![database],
                GrantLevel::Table {
                    database,
                    schema,
                    table,
                } => [database.as_str(), schema.as_str(), table.as_str()]
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .collect(),
            };
            if let Some(bad) = names.iter().find(|n| !is_plain_name(n)) {
                return Err(invalid(keyconsole_base::text!(
                    "errors.privilege_object_name",
                    name = *bad
                )));
            }
            if allowed.is_empty() {
                return Err(invalid(keyconsole_base::text!(
                    "errors.privilege_level_not_here",
                    engine = engine.label()
                )));
            }
            if let Some(bad) = grant
                .privileges
                .iter()
                .find(|p| !allowed.contains(&p.as_str()))
                .or(grant.privileges.is_empty().then_some(&String::new()))
            {
                return Err(invalid(keyconsole_base::text!(
                    "errors.privilege_not_given_here",
                    privilege = bad.as_str(),
                    allowed = allowed.join(", ")
                )));
            }
        }
        Ok(engine)
    }

    /// The instance's administrator endpoint and password.
    fn instance_login(&self, instance_id: &str) -> Result<(DbEndpoint, Zeroizing<String>)> {
        self.refresh()?;
        let (endpoint, sealed) = {
            let ring = self.ring();
            let record = ring
                .db_instances
                .iter()
                .find(|i| i.instance_id == instance_id)
                .ok_or_else(|| no_such_instance(instance_id))?;
            (record.endpoint.clone(), record.password.clone())
        };
        match open_version(self, &sealed_name(instance_id), &sealed)? {
            SecretValue::Text(password) => Ok((endpoint, password)),
            SecretValue::Binary(_) => Err(no_such_instance(instance_id)),
        }
    }

    /// Makes the account, then its secret; if the secret cannot be kept, the account goes
    /// again. Answers the new user's name.
    fn make_product_account(
        &self,
        request: &CreateProductSecret,
        admin: &DbEndpoint,
        admin_password: &str,
    ) -> Result<String> {
        let host = match admin.engine {
            DbEngine::MySql => request
                .domains
                .first()
                .cloned()
                .unwrap_or_else(|| "%".to_owned()),
            DbEngine::PostgreSql => String::new(),
        };
        let account = NewAccount {
            user: new_user_name(&request.user_name_prefix),
            host,
            password: random_password(),
            grants: request.grants.clone(),
        };
        let driver = self.database_driver();
        driver
            .create_account(admin, admin_password, &account)
            .map_err(|why| {
                KmsError::new(
                    ErrorCode::FailedOperation,
                    keyconsole_base::text!(
                        "errors.cannot_make_the_account",
                        endpoint = admin.to_string(),
                        why = why.text()
                    ),
                )
            })?;
        let endpoint = DbEndpoint {
            user: account.user.clone(),
            ..admin.clone()
        };
        let kept = self.insert_database_secret(
            CreateDatabaseSecret {
                name: request.name.clone(),
                description: request.description.clone(),
                key: request.key.clone(),
                endpoint,
                password: account.password.clone(),
                rotate_days: request.rotate_days,
            },
            Vec::new(),
            Some(ProductAccount {
                instance_id: request.instance_id.clone(),
                host: account.host.clone(),
                grants: account.grants.clone(),
            }),
        );
        if let Err(e) = kept {
            let _ = driver.drop_account(admin, admin_password, &account);
            return Err(e);
        }
        if !request.tags.is_empty() {
            self.tag_secret(&request.name, &request.tags, &[])?;
        }
        if let (Some(days), Some(begin)) = (request.rotate_days, request.rotation_begin) {
            self.set_secret_rotation(&request.name, true, Some(days), Some(begin))?;
        }
        Ok(account.user)
    }
}

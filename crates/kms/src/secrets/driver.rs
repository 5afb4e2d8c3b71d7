//! What rotation asks of a database, behind a trait: the real drivers (MySQL/MariaDB and
//! PostgreSQL, `util::database`) in every build, a fake in tests, so the rotation's rules are
//! tested in milliseconds beside the tests against real servers.

use keyconsole_base::util::database::{DbEndpoint, DbError};
use keyconsole_base::util::db_accounts::NewAccount;

pub trait DatabaseDriver: Send + Sync {
    /// Logs in with `password`.
    fn check_login(&self, endpoint: &DbEndpoint, password: &str) -> Result<(), DbError>;
    /// Which of `passwords` logs in: the index of the first that does, `None` when the server
    /// refused every one, an error when it could not say.
    fn which_logs_in(
        &self,
        endpoint: &DbEndpoint,
        passwords: &[&str],
    ) -> Result<Option<usize>, DbError>;
    /// Logs in with `current` and sets the user's own password to `new` (`Uncertain` when the
    /// statement was sent and its answer never came).
    fn change_own_password(
        &self,
        endpoint: &DbEndpoint,
        current: &str,
        new: &str,
    ) -> Result<(), DbError>;
    /// Logged in as `admin` (an administrator) with `admin_password`, makes `account` with its
    /// grants, all or nothing.
    fn create_account(
        &self,
        admin: &DbEndpoint,
        admin_password: &str,
        account: &NewAccount,
    ) -> Result<(), DbError>;
    /// Takes back an account `create_account` made (when its secret could not be kept).
    fn drop_account(
        &self,
        admin: &DbEndpoint,
        admin_password: &str,
        account: &NewAccount,
    ) -> Result<(), DbError>;
}

/// The database servers themselves, over the network.
pub struct RealDatabases;

impl DatabaseDriver for RealDatabases {
    fn check_login(&self, endpoint: &DbEndpoint, password: &str) -> Result<(), DbError> {
        endpoint.check_login(password)
    }

    fn which_logs_in(
        &self,
        endpoint: &DbEndpoint,
        passwords: &[&str],
    ) -> Result<Option<usize>, DbError> {
        endpoint.which_logs_in(passwords)
    }

    fn change_own_password(
        &self,
        endpoint: &DbEndpoint,
        current: &str,
        new: &str,
    ) -> Result<(), DbError> {
        endpoint.change_own_password(current, new)
    }

    fn create_account(
        &self,
        admin: &DbEndpoint,
        admin_password: &str,
        account: &NewAccount,
    ) -> Result<(), DbError> {
        admin.create_account(admin_password, account)
    }

    fn drop_account(
        &self,
        admin: &DbEndpoint,
        admin_password: &str,
        account: &NewAccount,
    ) -> Result<(), DbError> {
        admin.drop_account(admin_password, &account.user, &account.host)
    }
}

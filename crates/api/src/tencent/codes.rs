//! Tencent Cloud's error codes for the engine's error kinds: what the loopback API answers, what
//! the remote client reads back, and what the CLI and the console show beside a message (one code
//! set wherever a user is, as the cloud's console and SDKs show it).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use keyconsole_kms::ErrorCode;

/// The cloud's code for `kind`.
pub fn code(kind: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match kind {
        InvalidParameter => "InvalidParameter",
        InvalidParameterValue => "InvalidParameterValue",
        InvalidKeyId => "InvalidParameterValue.InvalidKeyId",
        InvalidAlias => "InvalidParameterValue.InvalidAlias",
        AliasAlreadyExists => "InvalidParameterValue.AliasAlreadyExists",
        InvalidCiphertext => "InvalidParameterValue.InvalidCiphertext",
        InvalidPlaintext => "InvalidParameterValue.InvalidPlaintext",
        InvalidEncryptionContext => "InvalidParameterValue.InvalidEncryptionContext",
        InvalidPendingWindowInDays => "InvalidParameter.InvalidPendingWindowInDays",
        TagKeysDuplicated => "InvalidParameterValue.TagKeysDuplicated",
        UnknownParameter => "UnknownParameter",
        InvalidHsmClusterId => "InvalidParameterValue.InvalidHsmClusterId",
        CmkNotFound => "ResourceUnavailable.CmkNotFound",
        CmkDisabled => "ResourceUnavailable.CmkDisabled",
        CmkArchived => "ResourceUnavailable.CmkArchived",
        CmkShouldBeDisabled => "ResourceUnavailable.CmkShouldBeDisabled",
        CmkNotPendingDelete => "ResourceUnavailable.CmkNotPendingDelete",
        CmkStateNotSupport => "ResourceUnavailable.CmkStateNotSupport",
        CmkUsedByCloudProduct => "FailedOperation.CmkUsedByCloudProduct",
        InvalidKeyUsage => "InvalidParameterValue.InvalidKeyUsage",
        RotateNotSupported => "UnsupportedOperation.RotateNotSupported",
        InvalidType => "InvalidParameterValue.InvalidType",
        NotExternalCmk => "UnsupportedOperation.NotExternalCmk",
        TokenExpired => "ResourceUnavailable.TokenExpired",
        DecryptMaterialError => "InvalidParameter.DecryptMaterialError",
        MaterialNotMatch => "InvalidParameterValue.MaterialNotMatch",
        ExternalCmkCanNotRotate => "UnsupportedOperation.ExternalCmkCanNotRotate",
        EncryptionError => "FailedOperation.EncryptionError",
        DecryptError => "FailedOperation.DecryptError",
        MissingParameter => "MissingParameter",
        InternalError => "InternalError",
        SignatureFailure => "AuthFailure.SignatureFailure",
        SignatureExpire => "AuthFailure.SignatureExpire",
        SecretIdNotFound => "AuthFailure.SecretIdNotFound",
        InvalidAuthorization => "AuthFailure.InvalidAuthorization",
        InvalidAction => "InvalidAction",
        NoSuchVersion => "NoSuchVersion",
        RequestSizeLimitExceeded => "RequestSizeLimitExceeded",
        // The cloud's common code for a method other than GET and POST.
        UnsupportedRequestMethod => "UnsupportedProtocol",
        SecretExists => "ResourceInUse.SecretExists",
        VersionIdExists => "ResourceInUse.VersionIdExists",
        SecretNotExist => "ResourceNotFound.SecretNotExist",
        ResourceDisabled => "ResourceUnavailable.ResourceDisabled",
        ResourcePendingDeleted => "ResourceUnavailable.ResourcePendingDeleted",
        LimitExceeded => "LimitExceeded",
        CmkLimitExceeded => "LimitExceeded.CmkLimitExceeded",
        OperationDenied => "OperationDenied",
        AccessKmsError => "FailedOperation.AccessKmsError",
        UnsupportedOperation => "UnsupportedOperation",
        AutoRotatedResource => "OperationDenied.AutoRotatedResource",
        FailedOperation => "FailedOperation",
        WrongPassword => "FailedOperation.WrongPassword",
        KeystoreDamaged => "FailedOperation.KeystoreDamaged",
        KeystoreNotFound => "FailedOperation.KeystoreNotFound",
        KeystoreExists => "FailedOperation.KeystoreExists",
        KeystoreBusy => "FailedOperation.KeystoreBusy",
        AuditUnavailable => "FailedOperation.AuditUnavailable",
        KeystoreIo => "FailedOperation.KeystoreIo",
        FileExists => "FailedOperation.FileExists",
        FileIo => "FailedOperation.FileIo",
        Cancelled => "FailedOperation.Cancelled",
        ServerUnreachable => "FailedOperation.ServerUnreachable",
        UnauthorizedOperation => "UnauthorizedOperation",
        // Users are managed on the keystore's machine, never over the API.
        UserNotFound => "ResourceNotFound.UserNotExist",
        UserExists => "ResourceInUse.UserExists",
        ReservationNeeded => "InternalError",
    }
}

/// Every code a client can see (not `ReservationNeeded`, which never leaves the engine, nor the
/// user kinds, which only the keystore's owner meets).
#[rustfmt::skip]
const ALL: &[ErrorCode] = {
    use ErrorCode::*;
    &[
        InvalidParameter, InvalidParameterValue, InvalidKeyId, InvalidAlias,
        AliasAlreadyExists, InvalidCiphertext, InvalidPlaintext, InvalidEncryptionContext,
        InvalidPendingWindowInDays, TagKeysDuplicated, UnknownParameter, InvalidHsmClusterId,
        CmkNotFound, CmkDisabled, CmkArchived,
        CmkShouldBeDisabled, CmkNotPendingDelete, CmkStateNotSupport, CmkUsedByCloudProduct,
        InvalidKeyUsage, RotateNotSupported, EncryptionError, InvalidType, NotExternalCmk,
        TokenExpired, DecryptMaterialError, MaterialNotMatch, ExternalCmkCanNotRotate,
        DecryptError, MissingParameter, InternalError, SignatureFailure, SignatureExpire,
        SecretIdNotFound, InvalidAuthorization, InvalidAction, NoSuchVersion,
        RequestSizeLimitExceeded, UnsupportedRequestMethod, SecretExists, VersionIdExists,
        SecretNotExist, ResourceDisabled, ResourcePendingDeleted, LimitExceeded,
        CmkLimitExceeded, OperationDenied, AccessKmsError, UnsupportedOperation, AutoRotatedResource,
        FailedOperation, WrongPassword, KeystoreDamaged, KeystoreNotFound, KeystoreExists,
        KeystoreBusy, AuditUnavailable, KeystoreIo, FileExists, FileIo, Cancelled, ServerUnreachable,
        UnauthorizedOperation,
    ]
};

/// The kind a server's code names (`code`'s inverse); `None` for a code keyconsole
/// does not have.
pub fn kind_of(code_text: &str) -> Option<ErrorCode> {
    if code_text == "AuthFailure.UnauthorizedOperation" {
        return Some(ErrorCode::UnauthorizedOperation);
    }
    ALL.iter().copied().find(|&kind| code(kind) == code_text)
}

/// The codes the cloud documents for each action (KMS and Secrets Manager), as its API reference
/// lists them; `scripts/sdk/conformance.py` checks answers against the same file.
static DOCUMENTED: LazyLock<HashMap<String, HashSet<String>>> = LazyLock::new(|| {
    let services: HashMap<String, HashMap<String, Vec<String>>> =
        serde_json::from_str(include_str!("error-codes.json")).unwrap_or_default();
    let mut actions: HashMap<String, HashSet<String>> = HashMap::new();
    for (action, codes) in services.into_values().flatten() {
        actions.entry(action).or_default().extend(codes);
    }
    actions
});

/// The codes every action of the cloud's API may answer (its common error codes).
pub const COMMON: &[&str] = &[
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureExpire",
    "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure",
    "AuthFailure.UnauthorizedOperation",
    "DryRunOperation",
    "FailedOperation",
    "InternalError",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidRequest",
    "IpInBlacklist",
    "IpNotInWhitelist",
    "LimitExceeded",
    "MissingParameter",
    "NoSuchProduct",
    "NoSuchVersion",
    "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "RequestLimitExceeded.IPLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded",
    "RequestSizeLimitExceeded",
    "ResourceInUse",
    "ResourceInsufficient",
    "ResourceNotFound",
    "ResourceUnavailable",
    "ResponseSizeLimitExceeded",
    "ServiceUnavailable",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
    "UnsupportedProtocol",
    "UnsupportedRegion",
];

fn answerable(action: &str, code_text: &str) -> bool {
    COMMON.contains(&code_text)
        || DOCUMENTED
            .get(action)
            .is_some_and(|codes| codes.contains(code_text))
}

/// What `action` answers for `kind`: the kind's code when the cloud documents it for that action
/// (or for every action), else its category (`ResourceNotFound.SecretNotExist` is
/// `ResourceNotFound` where only that is documented), so a client's handling written from the
/// action's documentation sees a code it knows.
pub fn code_for(action: &str, kind: ErrorCode) -> &'static str {
    let full = code(kind);
    if answerable(action, full) {
        return full;
    }
    // A policy's refusal where the action documents no UnauthorizedOperation of its own: the
    // cloud's common code for it.
    if kind == ErrorCode::UnauthorizedOperation {
        return "AuthFailure.UnauthorizedOperation";
    }
    // A key in a state the action does not work in, where the action names only the general case.
    let state = matches!(
        kind,
        ErrorCode::CmkDisabled
            | ErrorCode::CmkArchived
            | ErrorCode::CmkShouldBeDisabled
            | ErrorCode::CmkNotPendingDelete
    );
    let not_supported = code(ErrorCode::CmkStateNotSupport);
    if state && answerable(action, not_supported) {
        return not_supported;
    }
    match full.split_once('.') {
        Some((category, _)) if answerable(action, category) => category,
        // Neither the code nor its category is the action's (OperationDenied on DeleteSecret):
        // the common "the operation failed"; the message says why.
        _ if !action.is_empty() && service_action(action) => "FailedOperation",
        _ => full,
    }
}

/// Whether `action` is one the cloud documents codes for (the protocol's own refusals, before an
/// action is known, keep their codes).
fn service_action(action: &str) -> bool {
    DOCUMENTED.contains_key(action)
}

/// The kind an answer to `action` names (`code_for`'s inverse): a category code reads as the
/// one kind `code_for` would have answered it for, if there is exactly one.
pub fn kind_in(action: &str, code_text: &str) -> Option<ErrorCode> {
    kind_of(code_text)
        .filter(|&kind| code_for(action, kind) == code_text)
        .or_else(|| {
            let mut kinds = ALL
                .iter()
                .copied()
                .filter(|&kind| code_for(action, kind) == code_text);
            match (kinds.next(), kinds.next()) {
                (Some(kind), None) => Some(kind),
                _ => kind_of(code_text),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client reads back every code a server can answer with (the remote service depends on
    /// it), and no two kinds a client sees share a code.
    #[test]
    fn every_code_reads_back_as_its_kind() {
        for &kind in ALL {
            assert_eq!(kind_of(code(kind)), Some(kind), "{kind}");
        }
        // The one kind left out never leaves the engine and shares InternalError's code.
        assert_eq!(code(ErrorCode::ReservationNeeded), "InternalError");
        assert_eq!(kind_of("NoSuchCode"), None);
    }

    /// A code the action does not document answers as its category, and reads back as its kind.
    #[test]
    fn codes_follow_each_action_s_documentation() {
        assert!(DOCUMENTED.len() > 80, "the documented codes are read");
        assert_eq!(
            code_for("GetSecretValue", ErrorCode::SecretNotExist),
            "ResourceNotFound.SecretNotExist"
        );
        assert_eq!(
            code_for("DescribeSecret", ErrorCode::SecretNotExist),
            "ResourceNotFound"
        );
        assert_eq!(
            kind_in("DescribeSecret", "ResourceNotFound"),
            Some(ErrorCode::SecretNotExist)
        );
        assert_eq!(
            code_for("Encrypt", ErrorCode::KeystoreBusy),
            "FailedOperation"
        );
        assert_eq!(
            code_for("Decrypt", ErrorCode::InvalidCiphertext),
            "InvalidParameterValue.InvalidCiphertext"
        );
        assert_eq!(
            code_for("DeleteSecret", ErrorCode::OperationDenied),
            "FailedOperation"
        );
        assert_eq!(
            code_for("CreateSSHKeyPairSecret", ErrorCode::OperationDenied),
            "OperationDenied"
        );
    }
}

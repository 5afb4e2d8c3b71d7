//! Tencent Cloud's error codes for the engine's error kinds: what the loopback API answers, what
//! the remote client reads back, and what the CLI and the console show beside a message (one code
//! set wherever a user is, as the cloud's console and SDKs show it).

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
        CmkNotFound => "ResourceUnavailable.CmkNotFound",
        CmkDisabled => "ResourceUnavailable.CmkDisabled",
        CmkArchived => "ResourceUnavailable.CmkArchived",
        CmkShouldBeDisabled => "ResourceUnavailable.CmkShouldBeDisabled",
        CmkNotPendingDelete => "ResourceUnavailable.CmkNotPendingDelete",
        CmkStateNotSupport => "ResourceUnavailable.CmkStateNotSupport",
        CmkUsedByCloudProduct => "FailedOperation.CmkUsedByCloudProduct",
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
        UnsupportedRequestMethod => "UnsupportedRequestMethod",
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
        KeystoreIo => "FailedOperation.KeystoreIo",
        FileExists => "FailedOperation.FileExists",
        FileIo => "FailedOperation.FileIo",
        Cancelled => "FailedOperation.Cancelled",
        ServerUnreachable => "FailedOperation.ServerUnreachable",
        ReservationNeeded => "InternalError",
    }
}

/// Every code a client can see (not `ReservationNeeded`, which never leaves the engine).
#[rustfmt::skip]
const ALL: &[ErrorCode] = {
    use ErrorCode::*;
    &[
        InvalidParameter, InvalidParameterValue, InvalidKeyId, InvalidAlias,
        AliasAlreadyExists, InvalidCiphertext, InvalidPlaintext, InvalidEncryptionContext,
        InvalidPendingWindowInDays, CmkNotFound, CmkDisabled, CmkArchived,
        CmkShouldBeDisabled, CmkNotPendingDelete, CmkStateNotSupport, CmkUsedByCloudProduct,
        DecryptError, MissingParameter, InternalError, SignatureFailure, SignatureExpire,
        SecretIdNotFound, InvalidAuthorization, InvalidAction, NoSuchVersion,
        RequestSizeLimitExceeded, UnsupportedRequestMethod, SecretExists, VersionIdExists,
        SecretNotExist, ResourceDisabled, ResourcePendingDeleted, LimitExceeded,
        CmkLimitExceeded, OperationDenied, AccessKmsError, UnsupportedOperation, AutoRotatedResource,
        FailedOperation, WrongPassword, KeystoreDamaged, KeystoreNotFound, KeystoreExists,
        KeystoreBusy, KeystoreIo, FileExists, FileIo, Cancelled, ServerUnreachable,
    ]
};

/// The kind a server's code names (`code`'s inverse); `None` for a code keyconsole
/// does not have.
pub fn kind_of(code_text: &str) -> Option<ErrorCode> {
    ALL.iter().copied().find(|&kind| code(kind) == code_text)
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
}

//! API errors: a 4xx status, a stable code, a message that names the field and the fix (SPEC §5).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use granary_engine::EngineError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), field: None }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A request field that is missing or malformed (400 `invalid_field`).
    pub fn bad_field(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", format!("`{field}` {why}")).field(field)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&Body {
            error: Inner { code: self.code, message: &self.message, field: self.field.as_deref() },
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: Inner { code: self.code, message: &self.message, field: self.field.as_deref() } };
        (self.status, Json(body)).into_response()
    }
}

/// The HTTP status of an engine refusal: unknown ids 404, conflicts with the ledger's order 409,
/// rule refusals 422, malformed input 400, missing rights 403.
pub fn status_of(e: &EngineError) -> StatusCode {
    use EngineError::*;
    match e {
        Decode(_) | BadSignature { .. } | MalformedSignature | WrongChain { .. } | ChainMismatch { .. } => {
            StatusCode::BAD_REQUEST
        }
        UnknownChain(_)
        | UnknownToken(_)
        | UnknownPool(_)
        | UnknownFarm(_)
        | UnknownFarmPool(_)
        | UnknownStakingPool(_)
        | UnknownPosition(_)
        | UnknownQueued(_) => StatusCode::NOT_FOUND,
        BadNonce { .. } | DuplicateId(_) => StatusCode::CONFLICT,
        NotOwner { .. } | NotMinter { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The request field an engine refusal points at, where it names one.
fn field_of(e: &EngineError) -> Option<String> {
    use EngineError::*;
    Some(match e {
        BadSignature { .. } | MalformedSignature => "signature".into(),
        WrongChain { .. } | ChainMismatch { .. } => "chain_id".into(),
        BadNonce { .. } => "nonce".into(),
        Expired { .. } => "deadline".into(),
        // A swap's output bound is `min_out` in the request (the engine checks `amount_out`).
        Slippage { field: "amount_out", .. } => "min_out".into(),
        ZeroAmount { field } | Slippage { field, .. } | Invalid { field, .. } => (*field).to_string(),
        InsufficientBalance { .. } | InsufficientStaked { .. } | Overflow => "amount".into(),
        UnknownToken(_) => "token".into(),
        UnknownPool(_) => "pool".into(),
        UnknownFarmPool(_) => "farm_pool".into(),
        UnknownStakingPool(_) => "staking_pool".into(),
        UnknownPosition(_) | Locked { .. } => "position".into(),
        UnknownTerm { .. } => "term_days".into(),
        _ => return None,
    })
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError { status: status_of(&e), code: e.code(), message: e.to_string(), field: field_of(&e) }
    }
}

use std::fmt;

/// Why a sign-up, sign-in or session check failed. The codes are stable: the sign-in and
/// sign-up pages receive them in their URL and show the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    InvalidEmail,
    WeakPassword,
    InvalidAccountName,
    EmailTaken,
    InvalidCredentials,
    TooManyAttempts,
    TooManySignUps,
    Internal,
}

impl AuthError {
    const ALL: [AuthError; 8] = [
        Self::InvalidEmail,
        Self::WeakPassword,
        Self::InvalidAccountName,
        Self::EmailTaken,
        Self::InvalidCredentials,
        Self::TooManyAttempts,
        Self::TooManySignUps,
        Self::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::WeakPassword => "weak_password",
            Self::InvalidAccountName => "invalid_account_name",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts => "too_many_attempts",
            Self::TooManySignUps => "too_many_sign_ups",
            Self::Internal => "internal",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidEmail => "Enter a valid email address, like name@example.com.",
            Self::WeakPassword => "Use a password of 10 to 128 characters.",
            Self::InvalidAccountName => "Enter a company or team name of 1 to 80 characters.",
            Self::EmailTaken => "An account with this email already exists. Sign in instead.",
            Self::InvalidCredentials => "The email or password is not right.",
            Self::TooManyAttempts => {
                "Too many failed sign-ins. Wait a few minutes, then try again."
            }
            Self::TooManySignUps => {
                "Too many accounts were created from your network. Try again in an hour."
            }
            Self::Internal => "Something went wrong on our side. Try again in a moment.",
        }
    }

    /// The form field the error is about, so the page can show it there.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::InvalidEmail | Self::EmailTaken => Some("email"),
            Self::WeakPassword => Some("password"),
            Self::InvalidAccountName => Some("account_name"),
            _ => None,
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_error() {
        for error in AuthError::ALL {
            assert_eq!(AuthError::from_code(error.code()), Some(error));
        }
        assert_eq!(AuthError::from_code("nonsense"), None);
    }
}

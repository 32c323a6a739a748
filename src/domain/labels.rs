//! Each list of the vocabulary (roles, categories, kinds, statuses) is an enum with a
//! stable English code (stored in the database) and a Chinese label (shown to users).
//! `coded_enum!` writes the table once so codes and labels cannot drift apart.

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database and used in URLs and forms.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }

            pub fn from_zh(label: &str) -> Option<Self> {
                let label = label.trim();
                Self::ALL.iter().copied().find(|v| v.label_zh() == label)
            }

            /// Code/label pairs for drop-downs in templates.
            pub fn options() -> Vec<$crate::domain::labels::CodeLabel> {
                Self::ALL
                    .iter()
                    .map(|v| $crate::domain::labels::CodeLabel { code: v.code(), label: v.label_zh() })
                    .collect()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            /// Decodes a stored code; the database's CHECK constraints keep these valid.
            fn try_from(code: String) -> Result<Self, String> {
                Self::from_code(&code).ok_or_else(|| format!("unknown {} code {code:?}", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label_zh())
            }
        }
    };
}

pub(crate) use coded_enum;

#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeLabel {
    pub code: &'static str,
    pub label: &'static str,
}

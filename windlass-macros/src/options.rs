//! The attribute's options: `flavor`, `worker_threads`, `start_paused`,
//! parsed and checked, each remembered with the span of its value so an
//! error points at the token to fix.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Error, LitBool, LitInt, LitStr, Result};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    /// How the attribute is written, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[windlass::main]",
            Kind::Test => "#[windlass::test]",
        }
    }

    /// The options it takes, for the "unknown option" message.
    fn known(self) -> &'static str {
        match self {
            Kind::Main => "`flavor` and `worker_threads`",
            Kind::Test => "`flavor`, `worker_threads` and `start_paused`",
        }
    }
}

/// The runtime flavor to build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The checked options.
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    /// `worker_threads = N`, at least 1, multi-thread only.
    pub(crate) worker_threads: Option<LitInt>,
    /// `start_paused = true | false` (test only).
    pub(crate) start_paused: Option<LitBool>,
}

/// The options as written, each with where it was written.
#[derive(Default)]
struct Raw {
    flavor: Option<(Flavor, Span)>,
    worker_threads: Option<(LitInt, Span)>,
    start_paused: Option<LitBool>,
}

/// Parses and checks the attribute's arguments.
pub(crate) fn parse(kind: Kind, args: TokenStream) -> Result<Options> {
    let mut raw = Raw::default();
    syn::meta::parser(|meta| raw.option(kind, meta)).parse2(args)?;
    let default = match kind {
        Kind::Main => Flavor::MultiThread,
        Kind::Test => Flavor::CurrentThread,
    };
    let flavor = raw.flavor.map_or(default, |(f, _)| f);
    if let (Flavor::CurrentThread, Some((_, span))) = (flavor, &raw.worker_threads) {
        let why = match raw.flavor {
            Some(_) => "the current-thread flavor runs every task on the calling thread",
            None => {
                "the current-thread flavor, the default of #[windlass::test], runs every \
                     task on the calling thread"
            }
        };
        return Err(Error::new(
            *span,
            format!(
                "`worker_threads` is for the multi-thread flavor only: {why}; \
                 add `flavor = \"multi_thread\"` or remove `worker_threads`"
            ),
        ));
    }
    Ok(Options {
        flavor,
        worker_threads: raw.worker_threads.map(|(n, _)| n),
        start_paused: raw.start_paused,
    })
}

impl Raw {
    /// One `name = value` option.
    fn option(&mut self, kind: Kind, meta: ParseNestedMeta) -> Result<()> {
        let path = meta.path.clone();
        let name = path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        let duplicate = || meta.error(format!("`{name}` is given twice; keep one"));
        match name.as_str() {
            "flavor" => {
                if self.flavor.is_some() {
                    return Err(duplicate());
                }
                let lit: LitStr = meta.value()?.parse()?;
                self.flavor = Some((flavor(&lit)?, lit.span()));
            }
            "worker_threads" => {
                if self.worker_threads.is_some() {
                    return Err(duplicate());
                }
                let lit: LitInt = meta.value()?.parse()?;
                if lit.base10_parse::<usize>()? == 0 {
                    return Err(Error::new(
                        lit.span(),
                        "`worker_threads` must be at least 1 (for no worker threads, use \
                         `flavor = \"current_thread\"`)",
                    ));
                }
                self.worker_threads = Some((lit, path.span()));
            }
            "start_paused" if kind == Kind::Test => {
                if self.start_paused.is_some() {
                    return Err(duplicate());
                }
                self.start_paused = Some(meta.value()?.parse()?);
            }
            _ => {
                return Err(Error::new_spanned(
                    &path,
                    format!(
                        "unknown option `{}` of {}; it takes {}",
                        quote::ToTokens::to_token_stream(&path)
                            .to_string()
                            .replace(' ', ""),
                        kind.name(),
                        kind.known()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The flavor a string names.
fn flavor(lit: &LitStr) -> Result<Flavor> {
    match lit.value().as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        other => Err(Error::new(
            lit.span(),
            format!("unknown flavor \"{other}\"; use \"current_thread\" or \"multi_thread\""),
        )),
    }
}

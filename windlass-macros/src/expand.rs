//! Checking the function and writing the expansion.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, ItemFn, Result};

use crate::options::{self, Flavor, Kind, Options};

/// The whole expansion, or the compile errors in its place.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let is_main = syn::parse2::<ItemFn>(item.clone()).is_ok_and(|f| f.sig.ident == "main");
    match try_expand(kind, args, item) {
        Ok(tokens) => tokens,
        Err(e) => {
            let mut errors = e.to_compile_error();
            if is_main {
                // Only our errors: not also rustc's "`main` function not found".
                errors.extend(quote!(
                    fn main() {}
                ));
            }
            errors
        }
    }
}

fn try_expand(kind: Kind, args: TokenStream, item: TokenStream) -> Result<TokenStream> {
    let func: ItemFn = syn::parse2(item)?;
    // Report the function's mistakes and the options' together.
    let checked = check(kind, &func);
    let options = options::parse(kind, args);
    let (options, ()) = match (options, checked) {
        (Ok(o), Ok(())) => (o, ()),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            return Err(a);
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    Ok(write(kind, &func, &options))
}

/// The function must be a plain `async fn` without arguments or generics.
fn check(kind: Kind, func: &ItemFn) -> Result<()> {
    let sig = &func.sig;
    let name = kind.name();
    if sig.asyncness.is_none() {
        return Err(Error::new(
            sig.fn_token.span(),
            format!("{name} goes on an `async fn`; add `async` before `fn`"),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(Error::new_spanned(
            &sig.inputs,
            format!("{name} functions take no arguments; remove them"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &sig.generics,
            format!("{name} functions cannot be generic; remove the generic parameters"),
        ));
    }
    Ok(())
}

/// `fn NAME() -> RET { async fn body() -> RET BODY; RUNTIME.block_on(body()) }`.
fn write(kind: Kind, func: &ItemFn, options: &Options) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = func;
    let (name, output) = (&sig.ident, &sig.output);
    let span = sig.ident.span();
    let mut builder = match options.flavor {
        Flavor::CurrentThread => quote_spanned!(span=> new_current_thread()),
        Flavor::MultiThread => quote_spanned!(span=> new_multi_thread()),
    };
    if let Some(n) = &options.worker_threads {
        builder.extend(quote!(.worker_threads(#n)));
    }
    if let Some(paused) = &options.start_paused {
        builder.extend(quote!(.start_paused(#paused)));
    }
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => TokenStream::new(),
    };
    let expect = format!("{}: could not build the runtime", kind.name());
    // syn puts the body's inner attributes (`#![allow(..)]`) with the
    // function's own: they go back inside the body, where they were
    // written (before the function they are a compile error).
    let (inner, outer): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let mut body = TokenStream::new();
    block.brace_token.surround(&mut body, |tokens| {
        for attr in &inner {
            attr.to_tokens(tokens);
        }
        for stmt in &block.stmts {
            stmt.to_tokens(tokens);
        }
    });
    quote_spanned! {span=>
        #test_attr
        #(#outer)*
        #vis fn #name() #output {
            async fn __windlass_body() #output #body
            ::windlass::runtime::Builder::#builder
                .build()
                .expect(#expect)
                .block_on(__windlass_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Kind, args: &str, item: &str) -> String {
        let out = expand(kind, args.parse().unwrap(), item.parse().unwrap()).to_string();
        // Messages come back as string literals: unescape their quotes.
        out.replace("\\\"", "\"")
    }

    #[test]
    fn start_paused_becomes_a_builder_call() {
        let out = run(Kind::Test, "start_paused = true", "async fn t() {}");
        assert!(
            out.contains("new_current_thread () . start_paused (true)"),
            "{out}"
        );
        let out = run(
            Kind::Test,
            "flavor = \"multi_thread\", start_paused = false",
            "async fn t() {}",
        );
        assert!(
            out.contains("new_multi_thread () . start_paused (false)"),
            "{out}"
        );
    }

    #[test]
    fn start_paused_is_for_tests_only() {
        let out = run(Kind::Main, "start_paused = true", "async fn main() {}");
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("unknown option `start_paused` of #[windlass::main]"),
            "{out}"
        );
    }

    #[test]
    fn start_paused_takes_a_bool() {
        let out = run(Kind::Test, "start_paused = 1", "async fn t() {}");
        assert!(
            out.contains("compile_error") && out.contains("expected boolean literal"),
            "{out}"
        );
    }

    #[test]
    fn defaults_per_kind() {
        assert!(run(Kind::Main, "", "async fn main() {}").contains("new_multi_thread ()"));
        let test = run(Kind::Test, "", "async fn t() {}");
        assert!(test.contains("new_current_thread ()"), "{test}");
        assert!(test.contains(":: core :: prelude :: v1 :: test"), "{test}");
    }

    #[test]
    fn worker_threads_goes_through() {
        let out = run(Kind::Main, "worker_threads = 3", "async fn main() {}");
        assert!(
            out.contains("new_multi_thread () . worker_threads (3)"),
            "{out}"
        );
    }

    #[test]
    fn each_mistake_is_reported() {
        let cases = [
            (
                Kind::Main,
                "flavor = \"single\"",
                "async fn main() {}",
                "unknown flavor \"single\"",
            ),
            (
                Kind::Main,
                "flavor = current_thread",
                "async fn main() {}",
                "expected string literal",
            ),
            (
                Kind::Main,
                "worker_threads = 0",
                "async fn main() {}",
                "at least 1",
            ),
            (
                Kind::Main,
                "worker_threads = \"2\"",
                "async fn main() {}",
                "expected integer literal",
            ),
            (
                Kind::Test,
                "worker_threads = 2",
                "async fn t() {}",
                "the default of #[windlass::test]",
            ),
            (
                Kind::Main,
                "flavor = \"multi_thread\", flavor = \"multi_thread\"",
                "async fn main() {}",
                "given twice",
            ),
            (
                Kind::Test,
                "speed = 11",
                "async fn t() {}",
                "unknown option `speed`",
            ),
            (Kind::Main, "", "fn main() {}", "add `async` before `fn`"),
            (
                Kind::Main,
                "",
                "async fn main(x: u32) {}",
                "take no arguments",
            ),
            (Kind::Test, "", "async fn t<T>() {}", "cannot be generic"),
        ];
        for (kind, args, item, want) in cases {
            let out = run(kind, args, item);
            assert!(
                out.contains("compile_error") && out.contains(want),
                "{args} / {item}: {out}"
            );
        }
    }
}

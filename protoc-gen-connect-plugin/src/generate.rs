//! Emits the Rust code of one proto package's services.

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::docs::doc_lines;
use crate::model::{Method, Service, TypeMap, escape, method_ident, type_ident};
use crate::options::Options;

fn path(s: &str) -> Result<TokenStream, String> {
    syn::parse_str::<syn::Path>(s)
        .map(|p| quote!(#p))
        .map_err(|e| format!("{s} is not a Rust path: {e}"))
}

fn ident(s: &str) -> syn::Ident {
    match s.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, proc_macro2::Span::call_site()),
        None => syn::Ident::new(s, proc_macro2::Span::call_site()),
    }
}

fn docs(comment: &str) -> TokenStream {
    let lines = doc_lines(comment);
    quote!(#(#[doc = #lines])*)
}

fn deprecated(d: bool) -> TokenStream {
    if d { quote!(#[deprecated]) } else { quote!() }
}

/// The plugin name: snake_case of the service name without a `Service` suffix.
pub fn plugin_name(service: &str) -> String {
    let snake = service.to_snake_case();
    match snake.strip_suffix("_service") {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => snake,
    }
}

/// The version of a package from its version component: `kv.v1` → `1.0.0`,
/// `kv.v2beta1` → `2.0.0-beta.1`; `0.0.0` when there is none.
pub fn package_version(package: &str) -> String {
    let Some(last) = package.rsplit('.').next() else {
        return "0.0.0".into();
    };
    let Some(rest) = last.strip_prefix('v') else {
        return "0.0.0".into();
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return "0.0.0".into();
    }
    let tail = &rest[digits.len()..];
    let major: u64 = digits.parse().unwrap_or(0);
    if tail.is_empty() {
        return format!("{major}.0.0");
    }
    for pre in ["alpha", "beta"] {
        if let Some(n) = tail.strip_prefix(pre) {
            if n.is_empty() {
                return format!("{major}.0.0-{pre}");
            }
            if n.chars().all(|c| c.is_ascii_digit()) {
                return format!("{major}.0.0-{pre}.{n}");
            }
        }
    }
    "0.0.0".into()
}

/// Generates the items of every service of one package.
pub fn package_code(
    services: &[Service],
    types: &TypeMap,
    opts: &Options,
) -> Result<TokenStream, String> {
    let rt = path(&opts.runtime)?;
    let cg = quote!(#rt::codegen);
    let mut out = TokenStream::new();
    for s in services {
        out.extend(service_code(s, types, opts, &cg)?);
    }
    Ok(out)
}

struct MethodParts {
    ident: syn::Ident,
    descriptor: syn::Ident,
    input: TokenStream,
    output: TokenStream,
    m: Method,
}

fn service_code(
    s: &Service,
    types: &TypeMap,
    opts: &Options,
    cg: &TokenStream,
) -> Result<TokenStream, String> {
    let full = s.full_name();
    let trait_name = type_ident(&s.proto_name);
    let trait_ident = ident(&trait_name);
    let bare = trait_name
        .trim_start_matches("r#")
        .trim_end_matches('_')
        .to_owned();
    let client_ident = format_ident!("{}Client", bare);
    let plugin_ident = format_ident!("{}Plugin", bare);
    let router_fn = ident(&escape(format!("{}_router", bare.to_snake_case())));
    let shouty = bare.to_shouty_snake_case();
    let name_const = format_ident!("{}_NAME", shouty);
    let mut service_doc = docs(&s.comment);
    if !s.comment.trim().is_empty() {
        service_doc.extend(quote!(#[doc = ""]));
    }
    let service_deprecated = deprecated(s.deprecated);
    let service_path = format!("/{full}/");

    let mut methods = Vec::new();
    for m in &s.methods {
        let mname = method_ident(&m.proto_name);
        let input = path(&types.rust_path(&m.input, &s.package)?)?;
        let output = path(&types.rust_path(&m.output, &s.package)?)?;
        methods.push(MethodParts {
            ident: ident(&mname),
            descriptor: format_ident!("{}_{}", shouty, m.proto_name.to_shouty_snake_case()),
            input,
            output,
            m: m.clone(),
        });
    }

    let mut consts = Vec::new();
    let mut trait_methods = Vec::new();
    let mut client_methods = Vec::new();
    let mut routes = Vec::new();
    for p in &methods {
        let MethodParts {
            ident: mi,
            descriptor,
            input,
            output,
            m,
        } = p;
        let path_const = format_ident!("{}_PATH", descriptor);
        let method_path = format!("/{full}/{}", m.proto_name);
        let (stream_type, call, handler) = match (m.client_streaming, m.server_streaming) {
            (false, false) => (quote!(Unary), quote!(unary), quote!(unary)),
            (false, true) => (
                quote!(ServerStreaming),
                quote!(server_streaming),
                quote!(server_streaming),
            ),
            (true, false) => (
                quote!(ClientStreaming),
                quote!(client_streaming),
                quote!(client_streaming),
            ),
            (true, true) => (
                quote!(BidiStreaming),
                quote!(bidi_streaming),
                quote!(bidi_streaming),
            ),
        };
        let idempotency = match m.idempotency {
            1 => quote!(NoSideEffects),
            2 => quote!(Idempotent),
            _ => quote!(Unknown),
        };
        let path_doc = format!(" The HTTP path of `{}.{}`.", s.proto_name, m.proto_name);
        let desc_doc = format!(" The descriptor of `{}.{}`.", s.proto_name, m.proto_name);
        consts.push(quote! {
            #[doc = #path_doc]
            pub const #path_const: &str = #method_path;
            #[doc = #desc_doc]
            pub const #descriptor: #cg::MethodDescriptor = #cg::MethodDescriptor::new(
                #path_const,
                #cg::StreamType::#stream_type,
                #cg::Idempotency::#idempotency,
            );
        });
        let req_ty = if m.client_streaming {
            quote!(#cg::Request<#cg::Streaming<#input>>)
        } else {
            quote!(#cg::Request<#input>)
        };
        let res_ty = if m.server_streaming {
            quote!(#cg::Response<#cg::Streaming<#output>>)
        } else {
            quote!(#cg::Response<#output>)
        };
        let sig = quote! {
            fn #mi<'life0, 'async_trait>(
                &'life0 self,
                request: #req_ty,
            ) -> #cg::BoxFuture<'async_trait, ::core::result::Result<#res_ty, #cg::Status>>
            where
                'life0: 'async_trait,
                Self: 'async_trait
        };
        let mdoc = docs(&m.comment);
        let mdep = deprecated(m.deprecated);
        trait_methods.push(quote! {
            #mdoc
            #mdep
            #sig;
        });
        client_methods.push(quote! {
            #sig {
                ::std::boxed::Box::pin(self.inner.#call(&#descriptor, request))
            }
        });
        routes.push(quote! {
            .route(#descriptor, {
                let service = ::core::clone::Clone::clone(&service);
                #cg::#handler(move |request: #req_ty| {
                    let service = ::core::clone::Clone::clone(&service);
                    async move { service.#mi(request).await }
                })
            })
        });
    }

    let name_doc = format!(" The fully-qualified name of `{}`.", s.proto_name);
    let mut out = quote! {
        #[doc = #name_doc]
        pub const #name_const: &str = #full;
        #(#consts)*

        #service_doc
        /// Implemented by the plugin's own type (and served with the generated router) and by
        /// the generated remote client, so host code written against `Arc<dyn Trait>` works
        /// with either. Implement it with `#[connect_plugin::async_trait]` and `async fn`s.
        #service_deprecated
        pub trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }
    };

    if opts.client {
        let client_doc = format!(
            " The remote `{}`: every method is a call over the runtime's client (its transport and interceptor chain).",
            s.proto_name
        );
        out.extend(quote! {
            #[doc = #client_doc]
            #[derive(::core::clone::Clone, ::core::fmt::Debug)]
            pub struct #client_ident {
                inner: #cg::Client,
            }

            impl #client_ident {
                /// Calls the service through `client`.
                pub fn new(client: #cg::Client) -> Self {
                    Self { inner: client }
                }

                /// The runtime client underneath.
                pub fn inner(&self) -> &#cg::Client {
                    &self.inner
                }
            }

            #[allow(deprecated)]
            impl #trait_ident for #client_ident {
                #(#client_methods)*
            }
        });
    }

    if opts.server {
        let router_doc = format!(
            " Serves an implementation of `{}` on every protocol.",
            s.proto_name
        );
        out.extend(quote! {
            #[doc = #router_doc]
            #[allow(deprecated)]
            pub fn #router_fn(service: #cg::Arc<dyn #trait_ident>) -> #cg::Router {
                #cg::Router::new()
                    #(#routes)*
            }
        });
    }

    if opts.client && opts.server {
        let name = plugin_name(&s.proto_name);
        let version = package_version(&s.package);
        let plugin_doc = format!(
            " The `{name}` plugin: `{full}` as a plugin (dispense it to get an `Arc<dyn {trait_name}>`)."
        );
        out.extend(quote! {
            #[doc = #plugin_doc]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            pub struct #plugin_ident;

            impl #cg::Plugin for #plugin_ident {
                type Service = dyn #trait_ident;

                const INFO: #cg::PluginInfo = #cg::PluginInfo {
                    name: #name,
                    service_name: #name_const,
                    service_path: #service_path,
                    version: #version,
                };

                fn client(client: #cg::Client) -> #cg::Arc<dyn #trait_ident> {
                    #cg::Arc::new(#client_ident::new(client))
                }

                fn router(service: #cg::Arc<dyn #trait_ident>) -> #cg::Router {
                    #router_fn(service)
                }
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(plugin_name("KVService"), "kv");
        assert_eq!(plugin_name("EchoService"), "echo");
        assert_eq!(plugin_name("Service"), "service");
        assert_eq!(plugin_name("Logger"), "logger");
        assert_eq!(package_version("kv.v1"), "1.0.0");
        assert_eq!(package_version("kv.v2beta1"), "2.0.0-beta.1");
        assert_eq!(package_version("kv.v1alpha"), "1.0.0-alpha");
        assert_eq!(package_version("kv"), "0.0.0");
        assert_eq!(package_version(""), "0.0.0");
        assert_eq!(package_version("kv.version"), "0.0.0");
    }
}

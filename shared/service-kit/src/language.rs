//! The language of each request: a layer of the gRPC server that reads the caller's
//! `accept-language` metadata, chooses Vietnamese or English with
//! [`dti_i18n::Lang::negotiate`] (Vietnamese when the caller names neither or sends none) and
//! handles the request inside [`dti_i18n::scope`], so every message made while handling it —
//! a refusal of the text guard, a field violation, a service error, a warning — is shown in
//! that language ([`current_lang`]). The answer says which one in `content-language`.

use std::task::{Context, Poll};

use dti_i18n::Lang;
use futures::future::BoxFuture;
use futures::FutureExt;
use tower::{Layer, Service};

pub use dti_i18n::current_lang;

/// The metadata (HTTP header) a caller names its languages in.
pub const ACCEPT_LANGUAGE: &str = "accept-language";

/// The language a request asks for in its `accept-language` header; Vietnamese without one.
pub fn requested_lang(headers: &http::HeaderMap) -> Lang {
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default()
}

/// Installs [`LanguageService`] around a gRPC server's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LanguageLayer;

impl<S> Layer<S> for LanguageLayer {
    type Service = LanguageService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LanguageService { inner }
    }
}

/// Handles each request in the language it asks for.
#[derive(Debug, Clone)]
pub struct LanguageService<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for LanguageService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<http::Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let lang = requested_lang(request.headers());
        // The inner service may start its work in `call`: it runs in the language too.
        let handling = dti_i18n::sync_scope(lang, || self.inner.call(request));
        dti_i18n::scope(lang, handling)
            .map(move |answered| {
                answered.map(|mut response| {
                    response.headers_mut().insert(
                        http::header::CONTENT_LANGUAGE,
                        http::HeaderValue::from_static(lang.tag()),
                    );
                    response
                })
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_is_handled_in_the_language_it_asks_for() {
        let service = tower::service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(current_lang()))
        });
        let mut service = LanguageLayer.layer(service);
        for (header, lang) in [
            (None, Lang::Vi),
            (Some("en-US,en;q=0.9"), Lang::En),
            (Some("vi"), Lang::Vi),
            (Some("fr"), Lang::Vi),
        ] {
            let mut request = http::Request::new(());
            if let Some(header) = header {
                request
                    .headers_mut()
                    .insert(ACCEPT_LANGUAGE, header.parse().expect("a header"));
            }
            let response = service.call(request).await.expect("answered");
            assert_eq!(*response.body(), lang, "{header:?}");
            assert_eq!(
                response.headers()[http::header::CONTENT_LANGUAGE],
                lang.tag()
            );
        }
    }
}

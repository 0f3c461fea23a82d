//! How long a client may take to send a request body (`server.body_timeout_secs`).
//!
//! actix-web times out slow request heads itself but never a slow body: a client sending one
//! byte a second would hold a worker's connection forever. The middleware wraps the body
//! stream so that it fails with [`BodyTimedOut`] at the deadline; whoever reads the body (the
//! signature check, the JSON extractor) answers that 408 through [`ApiError::from_payload`].
//!
//! [`ApiError::from_payload`]: crate::error::ApiError::from_payload

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;
use tokio::time::Sleep;

/// The time a whole body may take, from the end of the request's head.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The error a body stream ends with when its deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {} s", .0.as_secs())]
pub struct BodyTimedOut(pub Duration);

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let timeout = req.app_data::<web::Data<BodyTimeout>>().map(|t| t.0);
    if let Some(timeout) = timeout.filter(|_| has_body(&req)) {
        let body = DeadlineBody { body: req.take_payload(), deadline: Box::pin(tokio::time::sleep(timeout)), timeout };
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(body);
        req.set_payload(Payload::from(stream));
    }
    next.call(req).await
}

/// Whether the request announces a body (most GETs do not: no timer for them).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0")
}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    body: Payload,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.body).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let timed_out = BodyTimedOut(self.timeout);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, timed_out)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

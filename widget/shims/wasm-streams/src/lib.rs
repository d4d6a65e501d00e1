//! The part of the wasm-streams 0.5 API that `server_fn` 0.8 uses, without `#[wasm_bindgen]`
//! exports (see README.md). Same names and types as the original.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{ReadableStreamDefaultController, ReadableStreamDefaultReader};

/// Raw web-sys types, as in wasm-streams.
pub mod readable {
    /// Raw stream bindings.
    pub mod sys {
        pub use web_sys::ReadableStream;
    }
    pub use super::{IntoStream, ReadableStream};
}

/// A JS `ReadableStream`.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

type Item = Result<JsValue, JsValue>;

impl ReadableStream {
    /// Wraps a JS stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        ReadableStream { raw }
    }

    /// The JS stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A JS stream that pulls `stream` one item at a time (`Err` errors the JS stream).
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Item> + 'static,
    {
        let stream = Rc::new(RefCell::new(Box::pin(stream)));
        let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
            move |ctrl: ReadableStreamDefaultController| {
                let stream = stream.clone();
                future_to_promise(async move {
                    // The JS stream never calls `pull` again before this promise settles.
                    let next = stream.borrow_mut().next().await;
                    match next {
                        Some(Ok(chunk)) => ctrl.enqueue_with_chunk(&chunk)?,
                        Some(Err(e)) => return Err(e),
                        None => ctrl.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let source = Object::new();
        let _ = Reflect::set(&source, &"pull".into(), pull.as_ref());
        // The JS stream owns its source; the pull callback lives as long as the page.
        pull.forget();
        let raw = web_sys::ReadableStream::new_with_underlying_source(&source)
            .unwrap_or_else(|_| web_sys::ReadableStream::new().expect_throw("ReadableStream"));
        ReadableStream { raw }
    }

    /// Reads the JS stream chunk by chunk.
    pub fn into_stream(self) -> IntoStream<'static> {
        let reader: ReadableStreamDefaultReader = self.raw.get_reader().unchecked_into();
        IntoStream {
            reader: Some(reader),
            pending: None,
            _lt: PhantomData,
        }
    }
}

/// A Rust stream over a JS `ReadableStream`.
pub struct IntoStream<'a> {
    reader: Option<ReadableStreamDefaultReader>,
    pending: Option<JsFuture>,
    _lt: PhantomData<&'a ()>,
}

impl Stream for IntoStream<'_> {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let Some(reader) = self.reader.clone() else {
            return Poll::Ready(None);
        };
        let fut = self
            .pending
            .get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = match Pin::new(fut).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r,
        };
        self.pending = None;
        let out = result.and_then(|r| {
            let done = Reflect::get(&r, &"done".into())?.is_truthy();
            Ok((!done)
                .then(|| Reflect::get(&r, &"value".into()))
                .transpose()?)
        });
        match out {
            Ok(Some(v)) => Poll::Ready(Some(Ok(v))),
            Ok(None) => {
                self.reader = None;
                Poll::Ready(None)
            }
            Err(e) => {
                self.reader = None;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

//! Requests driven by the JS shell instead of by `wasm-bindgen-futures`.
//!
//! Most requests wait on one thing only: a call to a `SiteState` object (recording an answer,
//! reading a visitor's records). Awaiting that promise from Rust costs two closures, their
//! `FinalizationRegistry` entries, a `then` and the executor's microtasks, and the async export
//! costs as much again — most of the wasm-bindgen glue's share of a request. So the shell drives
//! the request instead: [`start`] polls the application's future once; when it is waiting on an
//! object call, the shell gets the call as text, makes it itself and hands the answer to
//! [`resume`], which polls again. A future waiting on anything else (D1, a Queue, assets) is
//! handed to `wasm-bindgen-futures` as a promise, so every path still completes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;

use crate::js::JsError;

type Task = Pin<Box<dyn Future<Output = String>>>;

thread_local! {
    /// Requests waiting on an object call the shell is making, by id.
    static TASKS: RefCell<HashMap<u32, Task>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(0) };
    /// True while [`start`] or [`resume`] polls: an object call may then be left to the shell.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    /// The object call the polled future is waiting on: binding, object name, request.
    static OUTGOING: RefCell<Option<(String, String, String)>> = const { RefCell::new(None) };
    /// The answer to that call, set by [`resume`] for the poll that follows.
    static ANSWER: RefCell<Option<Result<String, JsError>>> = const { RefCell::new(None) };
}

/// Whether an object call made now can be left to the shell.
pub(crate) fn driving() -> bool {
    DRIVING.with(Cell::get)
}

/// An object call left to the shell: pending until [`resume`] brings its answer.
pub(crate) struct ShellCall {
    call: Option<(String, String, String)>,
}

/// Calls `object` of the namespace bound as `binding` through the shell (only when [`driving`]).
pub(crate) fn call(binding: &str, object: &str, request: String) -> ShellCall {
    ShellCall {
        call: Some((binding.to_string(), object.to_string(), request)),
    }
}

impl Future for ShellCall {
    type Output = Result<String, JsError>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(call) = self.call.take() {
            // Another call of the same poll goes first (the shell makes one at a time); this one
            // is made at the next poll, after that one's answer.
            return OUTGOING.with(|o| {
                let mut o = o.borrow_mut();
                if o.is_none() {
                    *o = Some(call);
                } else {
                    self.call = Some(call);
                }
                Poll::Pending
            });
        }
        match ANSWER.with(|a| a.borrow_mut().take()) {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Ready(Err(JsError("the object call was not answered".into()))),
        }
    }
}

/// Polls `task` once; what the shell gets: the answer (a string starting with its status), an
/// object call to make (`c<id>\n<binding>\n<object>\n<request>`), or a promise of the answer.
fn poll(mut task: Task) -> JsValue {
    DRIVING.with(|d| d.set(true));
    let polled = task.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    DRIVING.with(|d| d.set(false));
    match polled {
        Poll::Ready(answer) => answer.into(),
        Poll::Pending => match OUTGOING.with(|o| o.borrow_mut().take()) {
            Some((binding, object, request)) => {
                let id = NEXT.with(|n| {
                    let id = n.get();
                    n.set(id.wrapping_add(1));
                    id
                });
                TASKS.with(|t| t.borrow_mut().insert(id, task));
                format!("c{id}\n{binding}\n{object}\n{request}").into()
            }
            // Waiting on a runtime promise: its executor polls again (and re-registers the
            // waker) at once, then whenever that promise settles.
            None => {
                wasm_bindgen_futures::future_to_promise(
                    async move { Ok(JsValue::from(task.await)) },
                )
                .into()
            }
        },
    }
}

/// Starts driving a request's future (see the module doc).
pub(crate) fn start(task: impl Future<Output = String> + 'static) -> JsValue {
    poll(Box::pin(task))
}

/// Hands the answer of task `id`'s object call (`ok` false: the call threw, `text` its error)
/// and polls it again.
#[wasm_bindgen]
pub fn resume(id: u32, ok: bool, text: String) -> JsValue {
    let Some(task) = TASKS.with(|t| t.borrow_mut().remove(&id)) else {
        return crate::http::unavailable("the request's object call was answered twice").into();
    };
    ANSWER.with(|a| *a.borrow_mut() = Some(if ok { Ok(text) } else { Err(JsError(text)) }));
    poll(task)
}

//! The runtime's objects, bound directly: the few calls this worker makes on D1, a Queue, a
//! Durable Object stub and its SQL storage, with the fewest boundary crossings. Calls are
//! structural (by method name), so a test may hand in a wrapper binding that fails on purpose.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use nps_edge_app::backend::SqlValue;

#[wasm_bindgen]
extern "C" {
    /// A D1 database binding.
    pub type D1;
    #[wasm_bindgen(method)]
    fn prepare(this: &D1, sql: &str) -> D1Statement;

    /// A prepared D1 statement.
    pub type D1Statement;
    #[wasm_bindgen(method, catch, variadic)]
    fn bind(this: &D1Statement, values: &Array) -> Result<D1Statement, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn run(this: &D1Statement) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn raw(this: &D1Statement) -> Result<Promise, JsValue>;

    /// A Queue producer binding.
    pub type QueueProducer;
    #[wasm_bindgen(method, catch)]
    fn send(this: &QueueProducer, body: &JsValue, options: &JsValue) -> Result<Promise, JsValue>;

    /// A Durable Object namespace binding.
    pub type ObjectNamespace;
    #[wasm_bindgen(method, js_name = idFromName)]
    fn id_from_name(this: &ObjectNamespace, name: &str) -> JsValue;
    #[wasm_bindgen(method)]
    fn get(this: &ObjectNamespace, id: &JsValue) -> SiteStateStub;

    /// An RPC stub of the `SiteState` object (see `site_state`).
    pub type SiteStateStub;
    #[wasm_bindgen(method, catch)]
    fn call(this: &SiteStateStub, request: &str) -> Result<Promise, JsValue>;

    /// `ctx.storage.sql` of a SQLite-backed Durable Object.
    #[derive(Clone)]
    pub type Sql;
    #[wasm_bindgen(method, catch, variadic, js_name = exec)]
    fn exec(this: &Sql, query: &JsString, bindings: &Array) -> Result<SqlCursor, JsValue>;

    /// A `SqlStorageCursor`.
    pub type SqlCursor;

    /// A Durable Object's `ctx.storage`.
    pub type Storage;
    #[wasm_bindgen(method, getter)]
    fn sql(this: &Storage) -> Sql;
    #[wasm_bindgen(method, js_name = setAlarm)]
    fn set_alarm(this: &Storage, at: f64) -> Promise;
    /// A static-assets binding (Workers Static Assets, or a workerd disk service).
    pub type Assets;
    #[wasm_bindgen(method, catch, js_name = fetch)]
    fn fetch_url(this: &Assets, url: &str) -> Result<Promise, JsValue>;
    /// A fetch `Response`.
    pub type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, catch)]
    fn text(this: &FetchResponse) -> Result<Promise, JsValue>;

    /// A Durable Object's `ctx`.
    pub type ObjectContext;
    #[wasm_bindgen(method, getter)]
    fn storage(this: &ObjectContext) -> Storage;
}

/// A binding failure: what the runtime said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsError(pub String);

impl From<JsValue> for JsError {
    fn from(v: JsValue) -> Self {
        let msg = v
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| v.as_string())
            .unwrap_or_else(|| format!("{v:?}"));
        JsError(msg)
    }
}

/// A binding of `env` by name, or `None` when it is not there.
pub(crate) fn binding<T: JsCast>(env: &Env, name: &str) -> Option<T> {
    let v = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    (!v.is_undefined() && !v.is_null()).then(|| v.unchecked_into())
}

/// A string var or secret of `env`, trimmed, when set.
pub(crate) fn env_string(env: &Env, name: &str) -> Option<String> {
    js_sys::Reflect::get(env, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn js_value(v: &SqlValue) -> JsValue {
    match v {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Int(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
    }
}

fn sql_value(v: &JsValue) -> SqlValue {
    if let Some(s) = v.as_string() {
        SqlValue::Text(s)
    } else if let Some(f) = v.as_f64() {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            SqlValue::Int(f as i64)
        } else {
            SqlValue::Real(f)
        }
    } else {
        SqlValue::Null
    }
}

fn args(params: &[SqlValue]) -> Array {
    params.iter().map(js_value).collect()
}

fn rows_of(array: &Array) -> Vec<Vec<SqlValue>> {
    array
        .iter()
        .map(|row| {
            row.dyn_ref::<Array>()
                .map(|cols| cols.iter().map(|c| sql_value(&c)).collect())
                .unwrap_or_default()
        })
        .collect()
}

impl Assets {
    /// A text file by its path under the assets directory; `None` when there is none.
    pub async fn text_file(&self, name: &str) -> Result<Option<String>, JsError> {
        let res: FetchResponse =
            JsFuture::from(self.fetch_url(&format!("https://assets.invalid/{name}"))?)
                .await?
                .unchecked_into();
        if res.status() == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&res.status()) {
            return Err(JsError(format!("assets: {name}: HTTP {}", res.status())));
        }
        let text = JsFuture::from(res.text()?).await?;
        Ok(text.as_string())
    }
}

impl D1 {
    /// Runs a write; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, JsError> {
        let st = self.prepare(sql).bind(&args(params))?;
        let res = JsFuture::from(st.run()?).await?;
        let meta = js_sys::Reflect::get(&res, &JsValue::from_str("meta"))?;
        let changes = js_sys::Reflect::get(&meta, &JsValue::from_str("changes"))?;
        Ok(changes.as_f64().unwrap_or(0.0).max(0.0) as u64)
    }

    /// Runs a read; rows as arrays of columns.
    pub async fn rows(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<Vec<SqlValue>>, JsError> {
        let st = self.prepare(sql).bind(&args(params))?;
        let res = JsFuture::from(st.raw()?).await?;
        Ok(rows_of(res.unchecked_ref::<Array>()))
    }
}

impl QueueProducer {
    /// Sends one JSON message, delayed by `delay_seconds` when above 0.
    pub async fn send_json(&self, body: &str, delay_seconds: u32) -> Result<(), JsError> {
        let body = js_sys::JSON::parse(body)?;
        let options = js_sys::Object::new();
        if delay_seconds > 0 {
            js_sys::Reflect::set(
                &options,
                &JsValue::from_str("delaySeconds"),
                &JsValue::from_f64(delay_seconds.into()),
            )?;
        }
        JsFuture::from(self.send(&body, &options)?).await?;
        Ok(())
    }
}

impl ObjectNamespace {
    /// Calls the object named `name` with one request; its text answer.
    pub async fn call_named(&self, name: &str, request: &str) -> Result<String, JsError> {
        let stub = self.get(&self.id_from_name(name));
        let v = JsFuture::from(stub.call(request)?).await?;
        Ok(v.as_string().unwrap_or_default())
    }
}

#[wasm_bindgen(inline_js = "export function firstText(sql, q, a, b) { \
for (const row of sql.exec(q, a, b).raw()) { const v = row[0]; return typeof v === 'string' ? v : undefined; } \
return undefined; }")]
extern "C" {
    /// The first column of the first row of a statement with two text parameters, when it is
    /// text: one crossing, where reading rows costs a cursor, an array and one per value.
    #[wasm_bindgen(catch, js_name = firstText)]
    fn first_text(sql: &Sql, query: &JsString, a: &str, b: &str)
        -> Result<Option<String>, JsValue>;
}

thread_local! {
    /// Statement texts already copied into JS strings, by address: the statements are constants,
    /// and decoding their UTF-8 on every call was a measurable part of each request.
    static STATEMENTS: RefCell<HashMap<usize, JsString>> = RefCell::new(HashMap::new());
}

fn statement(query: &'static str) -> JsString {
    STATEMENTS.with(|m| {
        m.borrow_mut()
            .entry(query.as_ptr() as usize)
            .or_insert_with(|| JsString::from(query))
            .clone()
    })
}

impl Sql {
    /// Runs a statement; its rows as arrays of columns (`raw()` order).
    pub fn rows(
        &self,
        query: &'static str,
        params: &[SqlValue],
    ) -> Result<Vec<Vec<SqlValue>>, JsError> {
        let cursor = self.exec(&statement(query), &args(params))?;
        let raw = js_sys::Reflect::get(&cursor, &JsValue::from_str("raw"))?;
        let f: &js_sys::Function = raw.unchecked_ref();
        let it = f.call0(&cursor)?;
        let array = Array::from(&it);
        Ok(rows_of(&array))
    }

    /// The first row's first column of a statement with two text parameters, when it is text.
    pub fn first_text2(
        &self,
        query: &'static str,
        a: &str,
        b: &str,
    ) -> Result<Option<String>, JsError> {
        Ok(first_text(self, &statement(query), a, b)?)
    }

    /// Runs a statement that returns no rows (it runs to completion in `exec`).
    pub fn run(&self, query: &'static str, params: &[SqlValue]) -> Result<(), JsError> {
        self.exec(&statement(query), &args(params))?;
        Ok(())
    }
}

impl ObjectContext {
    /// The object's SQL storage.
    pub fn sql(&self) -> Sql {
        self.storage().sql()
    }

    /// Sets the alarm (the output gate makes it durable with the answer).
    pub fn set_alarm_at(&self, at_ms: f64) {
        let _ = self.storage().set_alarm(at_ms);
    }
}

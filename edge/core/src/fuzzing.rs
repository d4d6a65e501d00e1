//! The invariants the fuzz targets (`edge/server/fuzz`) check, kept here so a normal `cargo test`
//! can replay inputs through exactly the same functions.
//!
//! | target       | function           | what it feeds                                              |
//! |--------------|--------------------|------------------------------------------------------------|
//! | `parse_body` | [`check_body`]     | request bodies                                             |
//! | `identity`   | [`check_identity`] | identity secrets, user ids, signatures; request bodies     |
//! | `tokens`     | [`check_tokens`]   | `Authorization` headers, token sets, `[[tokens]]` / config |
//! | `client`     | [`check_client`]   | peer addresses, `X-Forwarded-For`, trusted-proxy CIDRs     |
//!
//! The structured targets read their input as a control byte followed by newline-separated text
//! fields (see each function), so a seed is a few readable lines.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nps_protocol::User;
use serde::Deserialize;

use crate::auth::{self, AuthError, Role, Token, Tokens};
use crate::client::{self, Cidr};
use crate::config::Site;
use crate::identity::{self, IdentityMode};
use crate::{ingest, payload, Config, EdgeError};

/// Runs arbitrary bytes through parsing, validation, authorization and rendering, panicking on
/// any broken invariant: every refusal is a 4xx with a JSON problem body; every accepted
/// response re-parses identically from its wire form.
pub fn check_body(data: &[u8]) {
    let config = Config::demo();
    for ct in [Some("application/json"), Some("text/plain")] {
        match ingest::check_response(&config, ct, Some("http://localhost:3000"), data) {
            Ok(r) => {
                let wire = nps_protocol::json::response_to_json(&r);
                match nps_protocol::parse::parse_response(wire.as_bytes()) {
                    Ok(back) => assert_eq!(back, r, "wire form does not round-trip"),
                    Err(e) => panic!("accepted response does not re-parse: {e:?}"),
                }
                let p = payload::response_payload(&r, 0);
                assert!(p.starts_with('{') && p.ends_with('}'));
            }
            Err(e) => {
                assert!((400..500).contains(&e.status()), "{e:?}");
                let body = e.to_problem_json();
                assert!(body.starts_with('{') && body.ends_with('}'));
            }
        }
    }
    match ingest::parse_event(data) {
        Ok(e) => drop(payload::event_payload(&e, 0)),
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
}

/// Splits fuzz input into `n` newline-separated text fields (lossy UTF-8; the last one keeps the
/// rest, newlines included; missing fields are empty).
fn fields(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data
        .splitn(n, |b| *b == b'\n')
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    out.resize(n, String::new());
    out
}

/// The control byte (first byte) and the rest of a fuzz input.
fn control(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((c, rest)) => (*c, rest),
        None => (0, &[]),
    }
}

/// Near misses of `s`: one character changed (at `at`), truncated, extended, upper-cased. None of
/// them is `s`.
fn mutations(s: &str, at: u8) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    if !chars.is_empty() {
        let i = usize::from(at) % chars.len();
        let mut changed = chars.clone();
        changed[i] = match changed[i].to_digit(16) {
            Some(d) => std::char::from_digit((d + 1 + u32::from(at) % 15) % 16, 16).unwrap_or('x'),
            None if changed[i] == 'x' => 'y',
            None => 'x',
        };
        out.push(changed.into_iter().collect());
        out.push(chars[..chars.len() - 1].iter().collect());
    }
    out.push(format!("{s}0"));
    out.push(format!("0{s}"));
    out.push(s.to_uppercase());
    out.retain(|m| m != s);
    out
}

/// The identity secret that the request-body half of [`check_identity`] uses.
pub const IDENTITY_SECRET: &str = "fuzz-identity-secret-0123456789";

const MODES: [IdentityMode; 3] = [
    IdentityMode::Off,
    IdentityMode::Optional,
    IdentityMode::Required,
];

fn identity_site(mode: IdentityMode, secret: Option<&str>) -> Site {
    let mut site = Config::demo().sites.remove(0);
    site.identity = mode;
    site.identity_secret = secret.map(str::to_string);
    site
}

/// Identity signing, verification and the per-site rule on arbitrary input, panicking on any
/// broken invariant.
///
/// Input: a control byte (bit 7: the site has no secret at all; bit 6: the user has no id; the
/// rest picks where to mutate), then the lines `secret`, `user id`, `signature`, `account`. The
/// whole input is also parsed as a response and as an event body, whose `user` goes through the
/// rule of every mode under [`IDENTITY_SECRET`].
///
/// - a parsed body's `user.signature` is 64 lowercase hex digits;
/// - `sign` is 64 lowercase hex digits and `verify(secret, id, sign(secret, id))` holds;
/// - `verify` accepts exactly `sign(secret, id)`: any other signature (the fuzzed one, a near
///   miss of the right one, the right one for another id or another secret) is refused;
/// - `apply` in `off` keeps the user minus its signature; in `optional` and `required` it keeps
///   a user only when its signature is exactly `sign(secret, id)`, drops (optional) or refuses
///   with a 403 (required) any other named user, and always lets an anonymous answer through;
///   a kept user never carries its signature;
/// - `apply_query` decides as `apply` does on the same fields.
pub fn check_identity(data: &[u8]) {
    let (ctl, rest) = control(data);
    let f = fields(rest, 4);
    let (secret, id, given, account) = (&f[0], &f[1], &f[2], &f[3]);

    let sig = identity::sign(secret.as_bytes(), id);
    assert_eq!(sig.len(), 64, "{sig}");
    assert!(
        sig.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{sig}"
    );
    assert!(identity::verify(secret.as_bytes(), id, &sig));
    assert_eq!(
        identity::verify(secret.as_bytes(), id, given),
        *given == sig,
        "secret {secret:?}, id {id:?}, signature {given:?}"
    );
    let mut near_misses = mutations(&sig, ctl);
    near_misses.extend([format!(" {sig}"), format!("{sig}\n"), sig.replace('a', "A")]);
    near_misses.retain(|m| *m != sig);
    for m in &near_misses {
        assert!(!identity::verify(secret.as_bytes(), id, m), "{m:?}");
    }
    // A longer key differs from the shorter one's zero padding, so these never collide.
    let other_secret = format!("{secret}x");
    assert!(!identity::verify(other_secret.as_bytes(), id, &sig));
    assert!(!identity::verify(
        secret.as_bytes(),
        &format!("{id}x"),
        &sig
    ));

    let site_secret = (ctl & 0x80 == 0).then_some(secret.as_str());
    let user_id = (ctl & 0x40 == 0).then(|| id.clone());
    let account = (!account.is_empty()).then(|| account.clone());
    let signatures = [
        None,
        Some(given.clone()),
        Some(sig.clone()),
        near_misses.first().cloned(),
        Some(identity::sign(other_secret.as_bytes(), id)),
    ];
    for mode in MODES {
        let site = identity_site(mode, site_secret);
        for signature in &signatures {
            let user = User {
                id: user_id.clone(),
                account: account.clone(),
                signature: signature.clone(),
                ..Default::default()
            };
            check_apply(&site, Some(user.clone()));
            check_query(&site, user);
        }
        check_apply(&site, None);
    }

    let sites = MODES.map(|m| identity_site(m, Some(IDENTITY_SECRET)));
    let users = [
        ingest::parse_response(data).ok().and_then(|r| r.user),
        ingest::parse_event(data).ok().and_then(|e| e.user),
    ];
    for user in users.into_iter().flatten() {
        if let Some(sig) = &user.signature {
            assert!(
                sig.len() == 64
                    && sig
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "the parser let through a signature of the wrong form: {sig:?}"
            );
        }
        for site in &sites {
            check_apply(site, Some(user.clone()));
            check_query(site, user.clone());
        }
    }
}

/// [`identity::apply`] against its rule, with "validly signed" decided without
/// [`identity::verify`]: the signature must be exactly `sign(secret, id)`.
fn check_apply(site: &Site, user: Option<User>) {
    let secret = site.identity_secret.as_deref().unwrap_or("");
    let named = user.as_ref().is_some_and(|u| !u.is_empty());
    let valid = user.as_ref().is_some_and(|u| match (&u.id, &u.signature) {
        (Some(id), Some(sig)) => *sig == identity::sign(secret.as_bytes(), id),
        _ => false,
    });
    let stripped = user.clone().map(|mut u| {
        u.signature = None;
        u
    });
    let out = identity::apply(site, user.clone());
    if let Ok(Some(kept)) = &out {
        assert!(kept.signature.is_none(), "a signature was kept: {kept:?}");
        assert!(
            site.identity == IdentityMode::Off || valid,
            "{:?} kept a user without a valid signature: {user:?}",
            site.identity
        );
    }
    match (named, site.identity, out) {
        (false, _, out) => assert_eq!(out, Ok(None), "an anonymous user: {user:?}"),
        (true, IdentityMode::Off, out) => assert_eq!(out, Ok(stripped)),
        (true, _, out) if valid => assert_eq!(out, Ok(stripped)),
        (true, IdentityMode::Optional, out) => assert_eq!(out, Ok(None), "{user:?}"),
        (true, IdentityMode::Required, Err(e)) => {
            assert_eq!(e.status(), 403, "{e:?}");
            assert!(
                matches!(e, EdgeError::Identity("user.id" | "user.signature", _)),
                "{e:?}"
            );
            let body = e.to_problem_json();
            assert!(body.starts_with('{') && body.ends_with('}'));
        }
        (true, mode, out) => panic!("{mode:?} on {user:?} gave {out:?}"),
    }
}

/// [`identity::apply_query`] decides as [`identity::apply`] does on the same three fields.
fn check_query(site: &Site, user: User) {
    let user = User {
        id: user.id,
        account: user.account,
        signature: user.signature,
        ..Default::default()
    };
    let query = identity::apply_query(
        site,
        user.id.clone(),
        user.account.clone(),
        user.signature.clone(),
    );
    let via_apply = identity::apply(site, Some(user.clone()))
        .map(|kept| kept.map_or((None, None), |k| (k.id, k.account)));
    assert_eq!(query, via_apply, "{user:?}");
    check_apply(site, Some(user));
}

/// The tokens every [`check_tokens`] run starts from (each at least [`auth::MIN_TOKEN_CHARS`]).
pub const FIXED_TOKENS: [(&str, Role, &str, &str); 4] = [
    ("ops", Role::Admin, "*", "adm_0123456789abcdef"),
    ("cx", Role::Read, "shop", "read_0123456789abcdef"),
    ("other", Role::Admin, "other", "other_0123456789abcdef"),
    ("scrape", Role::Metrics, "*", "metrics_0123456789abcdef"),
];

const ROLES: [Role; 4] = [Role::Read, Role::Agent, Role::Admin, Role::Metrics];

/// What [`Tokens::check`] must answer, written from the rule rather than the code: the first
/// configured token whose secret is byte-for-byte the bearer token, if its role and sites allow.
fn expected<'a>(
    tokens: &'a Tokens,
    authorization: Option<&str>,
    role: Role,
    site: Option<&str>,
) -> Result<&'a Token, AuthError> {
    let given = auth::bearer_token(authorization)?;
    match tokens
        .0
        .iter()
        .find(|t| t.secret.as_bytes() == given.as_bytes())
    {
        Some(t)
            if (t.role == role
                || t.role == Role::Admin
                || (t.role == Role::Agent && role == Role::Read))
                && site.is_none_or(|s| t.sites.iter().any(|x| x == "*" || x == s)) =>
        {
            Ok(t)
        }
        _ => Err(AuthError::Forbidden),
    }
}

/// [`auth::bearer_token`] against RFC 6750's form: `Bearer` (any case), a space, one token.
fn check_bearer(header: Option<&str>) {
    let got = auth::bearer_token(header);
    let Some(h) = header else {
        assert_eq!(got, Err(AuthError::Missing));
        return;
    };
    let t = h.trim().as_bytes();
    let well_formed = t.len() > 7 && t[..6].eq_ignore_ascii_case(b"bearer") && t[6] == b' ' && {
        let token = h.trim()[7..].trim();
        !token.is_empty() && !token.contains(' ')
    };
    match got {
        Ok(token) => {
            assert!(well_formed, "{h:?} gave {token:?}");
            assert_eq!(token, h.trim()[7..].trim(), "{h:?}");
            assert!(!token.is_empty() && !token.contains(' ') && token.trim() == token);
        }
        Err(e) => {
            assert!(!well_formed, "{h:?} refused: {e:?}");
            assert_eq!(e, AuthError::Malformed);
            assert_eq!(e.status(), 401);
        }
    }
}

/// Every answer of [`Tokens::check`] for every role and `sites`, compared with [`expected`]; a
/// granted token is one of `tokens` and the header carries exactly its secret.
fn check_grants(tokens: &Tokens, header: Option<&str>, sites: &[Option<&str>]) {
    check_bearer(header);
    for role in ROLES {
        for site in sites {
            let got = tokens.check(header, role, *site);
            let want = expected(tokens, header, role, *site);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert!(std::ptr::eq(*g, *w), "{header:?}: {g:?} vs {w:?}"),
                (Err(g), Err(w)) => assert_eq!(g, w, "{header:?}"),
                _ => panic!("{header:?} as {role:?} on {site:?}: {got:?}, expected {want:?}"),
            }
            if let Ok(t) = got {
                assert!(tokens.0.iter().any(|c| std::ptr::eq(c, t)));
                assert_eq!(auth::bearer_token(header), Ok(t.secret.as_str()));
                assert!(t.role.grants(role), "{t:?} as {role:?}");
                assert!(site.is_none_or(|s| t.grants_site(s)), "{t:?} on {site:?}");
            }
            if let Err(e) = got {
                assert_eq!(e == AuthError::Missing, header.is_none(), "{header:?}");
                let status = if e == AuthError::Forbidden { 403 } else { 401 };
                assert_eq!(e.status(), status);
            }
        }
    }
}

/// `env:NAME` → a usable token, except for names starting with `UNSET` (not set).
fn token_env(name: &str) -> Option<String> {
    (!name.starts_with("UNSET")).then(|| format!("tok_{name}_0123456789abcdef"))
}

/// After `[[tokens]]` passed `validate`, `resolve_secrets` and `check_unique`: each token is
/// granted by its own secret, for its role, on its sites, and by nothing else.
fn check_resolved(tokens: &Tokens) {
    for t in &tokens.0 {
        assert!(t.secret.chars().count() >= auth::MIN_TOKEN_CHARS, "{t:?}");
        assert!(t.secret.chars().all(|c| c.is_ascii_graphic()), "{t:?}");
        let header = format!("Bearer {}", t.secret);
        let site = t.sites.iter().find(|s| *s != "*").map(String::as_str);
        let granted = tokens.check(Some(&header), t.role, site);
        assert!(
            matches!(granted, Ok(g) if std::ptr::eq(g, t)),
            "{t:?}: {granted:?}"
        );
        check_grants(tokens, Some(&header), &[None, site, Some("not-a-site")]);
        for m in mutations(&t.secret, t.name.len() as u8) {
            if tokens.0.iter().all(|o| o.secret != m) {
                let h = format!("Bearer {m}");
                for role in ROLES {
                    assert!(tokens.check(Some(&h), role, None).is_err(), "{m:?}");
                }
            }
        }
    }
}

/// Bearer-token parsing, token checks and `[[tokens]]` config on arbitrary input, panicking on
/// any broken invariant.
///
/// Input: a control byte (picks the extra token's role, which fixed token to try near misses of,
/// and where to mutate it), then the lines `Authorization header`, `site`, `extra token's
/// secret`, `extra token's sites (comma-separated)`, and the rest, parsed as a `[[tokens]]` TOML
/// document and as a whole config.
///
/// - `bearer_token` takes exactly `Bearer <one token>` (scheme in any case), 401 otherwise;
/// - `check` grants a token only when the header carries exactly its secret, its role grants
///   the one asked for and it grants the site: never an unconfigured token (a near miss of a
///   configured one included), never another site's or a weaker role's; its answer equals the
///   rule written out in [`expected`] for every role and site;
/// - `constant_time_eq` is equality;
/// - a `[[tokens]]` document or a config that parses, validates and resolves its secrets has
///   tokens that each grant exactly what they say; a resolved config's identity secrets are set
///   and at least 16 characters wherever identity is on, and its trusted proxies parse.
pub fn check_tokens(data: &[u8]) {
    let (ctl, rest) = control(data);
    let f = fields(rest, 5);
    let (header, site, secret, sites, toml_src) = (&f[0], &f[1], &f[2], &f[3], &f[4]);

    let mut tokens: Vec<Token> = FIXED_TOKENS
        .iter()
        .map(|(name, role, site, secret)| Token {
            name: name.to_string(),
            role: *role,
            sites: vec![site.to_string()],
            secret: secret.to_string(),
        })
        .collect();
    tokens.push(Token {
        name: "extra".into(),
        role: ROLES[usize::from(ctl) % 3],
        sites: sites.split(',').map(str::to_string).collect(),
        secret: secret.clone(),
    });
    let tokens = Tokens(tokens);

    let (_, _, _, fixed) = FIXED_TOKENS[usize::from(ctl / 3) % FIXED_TOKENS.len()];
    let near_misses = mutations(fixed, ctl / 12);
    let mut headers: Vec<Option<String>> = vec![
        None,
        Some(header.clone()),
        Some(format!("Bearer {header}")),
        Some(format!("bearer  {secret} ")),
        Some(format!("Bearer {fixed}")),
        Some(format!("Basic {fixed}")),
        Some(fixed.to_string()),
    ];
    headers.extend(near_misses.iter().map(|m| Some(format!("Bearer {m}"))));
    let site_choices = [None, Some("shop"), Some("other"), Some(site.as_str())];
    for h in &headers {
        check_grants(&tokens, h.as_deref(), &site_choices);
    }
    for m in &near_misses {
        if tokens.0.iter().all(|t| t.secret != *m) {
            let h = format!("Bearer {m}");
            for role in ROLES {
                assert_eq!(
                    tokens.check(Some(&h), role, None),
                    Err(AuthError::Forbidden),
                    "a near miss {m:?} was granted"
                );
            }
        }
    }

    for (a, b) in [(header, secret), (secret, sites), (header, header)] {
        assert_eq!(auth::constant_time_eq(a.as_bytes(), b.as_bytes()), a == b);
    }

    #[derive(Deserialize)]
    struct Doc {
        tokens: Tokens,
    }
    let exists = |s: &str| s == "shop" || s == "other";
    if let Ok(mut doc) = toml::from_str::<Doc>(toml_src) {
        if doc.tokens.validate(exists).is_ok() {
            for (i, t) in doc.tokens.0.iter().enumerate() {
                assert!(!t.name.is_empty() && t.name.len() <= 64, "{t:?}");
                assert!(doc.tokens.0[..i].iter().all(|o| o.name != t.name));
                assert!(!t.sites.is_empty(), "{t:?}");
                assert!(t.sites.iter().all(|s| s == "*" || exists(s)), "{t:?}");
                assert!(t.secret.starts_with("env:") && t.secret.len() > 4, "{t:?}");
            }
            if doc.tokens.resolve_secrets(token_env).is_ok() && doc.tokens.check_unique().is_ok() {
                check_resolved(&doc.tokens);
            }
        }
    }
    if let Ok(mut config) = Config::from_toml_str(toml_src) {
        if config.validate().is_ok() {
            for c in &config.trusted_proxies {
                assert!(Cidr::parse(c).is_ok(), "{c:?}");
            }
            if config.resolve_secrets(token_env).is_ok() {
                for s in &config.sites {
                    if s.identity != IdentityMode::Off {
                        let secret = s.identity_secret.as_deref().unwrap_or("");
                        assert!(secret.chars().count() >= 16, "{s:?}");
                    }
                }
                check_resolved(&config.tokens);
            }
        }
    }
}

/// The bits of an address, most significant first, and back.
fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn ip_like(ip: IpAddr, bits: u128) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

/// A CIDR that parsed renders back to the same block: `addr/bits` (with the address in its
/// canonical form) parses to an equal [`Cidr`], which contains its own address.
fn check_cidr_text(s: &str) {
    let Ok(c) = Cidr::parse(s) else {
        return;
    };
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let ip: IpAddr = addr.trim().parse().expect("a parsed block has an address");
    let bits = bits.map_or(max_prefix(ip), |b| b.trim().parse().expect("and a prefix"));
    assert!(bits <= max_prefix(ip), "{s:?}");
    assert_eq!(Cidr::parse(&format!("{ip}/{bits}")), Ok(c), "{s:?}");
    if bits == max_prefix(ip) {
        assert_eq!(Cidr::parse(&ip.to_string()), Ok(c), "{s:?}");
    }
    assert!(c.contains(ip), "{s:?}");
}

/// `ip/bits` built from bytes: parses exactly when `bits` fits, and then contains an address
/// exactly when the address agrees on the first `bits` bits (IPv4 also as `::ffff:a.b.c.d`).
fn check_cidr_bits(ip: IpAddr, bits: u8) {
    let max = max_prefix(ip);
    let parsed = Cidr::parse(&format!("{ip}/{bits}"));
    let Ok(c) = parsed else {
        assert!(bits > max, "{ip}/{bits}: {parsed:?}");
        return;
    };
    assert!(bits <= max, "{ip}/{bits}");
    let v = ip_bits(ip);
    assert!(c.contains(ip));
    for i in 0..max {
        let flipped = ip_like(ip, v ^ (1u128 << (u32::from(max) - 1 - u32::from(i))));
        assert_eq!(
            c.contains(flipped),
            i >= bits,
            "{ip}/{bits}, bit {i}: {flipped}"
        );
        if let IpAddr::V4(a) = flipped {
            assert_eq!(
                c.contains(IpAddr::V6(a.to_ipv6_mapped())),
                i >= bits,
                "{ip}/{bits} mapped"
            );
        }
    }
}

/// [`client::key`]: IPv4 (also IPv4-mapped) as the address, IPv6 by its /64.
fn check_key(ip: IpAddr) {
    let k = client::key(ip);
    match ip {
        IpAddr::V4(a) => assert_eq!(k, a.to_string()),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => assert_eq!(k, v4.to_string()),
            None => {
                assert!(k.ends_with("::/64"), "{k}");
                let same_64 = Ipv6Addr::from(u128::from(a) ^ 0xffff_ffff_ffff_ffff);
                if same_64.to_ipv4_mapped().is_none() {
                    assert_eq!(client::key(IpAddr::V6(same_64)), k);
                }
                let other_64 = Ipv6Addr::from(u128::from(a) ^ (1u128 << 64));
                if other_64.to_ipv4_mapped().is_none() {
                    assert_ne!(client::key(IpAddr::V6(other_64)), k);
                }
            }
        },
    }
}

/// Client address parsing on arbitrary input, panicking on any broken invariant.
///
/// Input: a control byte (a prefix length), then the lines `peer`, `X-Forwarded-For`, and any
/// number of trusted-proxy CIDRs, one a line.
///
/// - `Cidr::parse` never panics, and a block that parsed round-trips through `addr/bits`;
/// - an address built from the input bytes, with the control byte as prefix length, parses
///   exactly when the prefix fits and then holds exactly the addresses sharing the prefix;
/// - `address` is `None` exactly when the peer is not an IP; an untrusted peer is the client
///   whatever the header says; otherwise the client is the peer or a header hop with only
///   trusted proxies to its right (a client cannot push an address of its choosing in front of
///   the one a trusted proxy appended);
/// - `key` keys IPv4 by address and IPv6 by /64.
pub fn check_client(data: &[u8]) {
    let (ctl, rest) = control(data);
    let f = fields(rest, 3);
    let (peer, xff) = (&f[0], &f[1]);
    let lines: Vec<&str> = f[2].split('\n').collect();
    for l in &lines {
        check_cidr_text(l);
    }
    let trusted: Vec<Cidr> = lines.iter().filter_map(|l| Cidr::parse(l).ok()).collect();

    let mut raw = [0u8; 16];
    for (r, b) in raw.iter_mut().zip(rest) {
        *r = *b;
    }
    check_cidr_bits(
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        ctl % 40,
    );
    check_cidr_bits(IpAddr::V6(Ipv6Addr::from(raw)), ctl % 136);

    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer_ip = peer.trim().parse::<IpAddr>().ok();
    for header in [None, Some(xff.as_str())] {
        let got = client::address(Some(peer), header, &trusted);
        let Some(p) = peer_ip else {
            assert_eq!(got, None, "{peer:?}");
            continue;
        };
        let ip = got.expect("a peer that parses gives an address");
        check_key(ip);
        if !is_trusted(p) || header.is_none() {
            assert_eq!(ip, p, "{peer:?} {header:?}");
            continue;
        }
        if ip != p {
            let hops: Vec<&str> = xff.rsplit(',').collect();
            let at = hops
                .iter()
                .position(|h| h.trim().parse::<IpAddr>().ok() == Some(ip))
                .unwrap_or_else(|| panic!("{ip} is neither the peer nor in {xff:?}"));
            for h in &hops[..at] {
                let hop: IpAddr = h.trim().parse().expect("hops right of the client parse");
                assert!(
                    is_trusted(hop),
                    "{hop} right of {ip} is not a trusted proxy"
                );
            }
        }
    }
    assert_eq!(client::address(None, Some(xff), &trusted), None);
    assert_eq!(
        client::address(Some(peer), Some(xff), &[]),
        peer_ip,
        "no trusted proxies: the header is never read"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(ctl: u8, lines: &[&str]) -> Vec<u8> {
        let mut v = vec![ctl];
        v.extend_from_slice(lines.join("\n").as_bytes());
        v
    }

    #[test]
    fn the_fuzz_seeds_replay_through_the_invariants() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/fuzz/seeds");
        type Check = fn(&[u8]);
        let targets: [(&str, Check); 3] = [
            ("identity", check_identity),
            ("tokens", check_tokens),
            ("client", check_client),
        ];
        for (target, check) in targets {
            let dir = std::fs::read_dir(seeds.join(target)).expect(target);
            let files: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
            assert!(files.len() >= 5, "{target}: {files:?}");
            for f in files {
                check(&std::fs::read(&f).unwrap());
            }
        }
    }

    #[test]
    fn identity_invariants_hold_on_fixed_inputs() {
        let good = identity::sign(b"a-site-secret-0123456789", "u-1");
        let wire = format!(
            r#"{{"id":"r-1","rev":1,"site":"demo","survey":"checkout","score":9,"visitor":"v","user":{{"id":"u-1","signature":"{}"}}}}"#,
            identity::sign(IDENTITY_SECRET.as_bytes(), "u-1")
        );
        for data in [
            Vec::new(),
            vec![0],
            input(0, &["a-site-secret-0123456789", "u-1", &good, "acme"]),
            input(0x80, &["a-site-secret-0123456789", "u-1", &good, ""]),
            input(0x40, &["s", "", "", "acme"]),
            input(7, &["", "", "", ""]),
            input(0xff, &["\u{0}", "é\u{202e}", &good.to_uppercase(), "a\nb"]),
            input(3, &["k", "u-1", &good[..63], ""]),
            wire.into_bytes(),
            br#"{"id":"e-1","type":"shown","site":"demo","survey":"s","visitor":"v","user":{"id":"x","account":"acme","signature":"0000000000000000000000000000000000000000000000000000000000000000"}}"#.to_vec(),
            vec![0xff, 0xfe, b'\n', 0x80, b'\n', 0xc3],
        ] {
            check_identity(&data);
        }
    }

    #[test]
    fn token_invariants_hold_on_fixed_inputs() {
        let toml_tokens = "[[tokens]]\nname = \"ops\"\nrole = \"admin\"\nsites = [\"*\"]\nsecret = \"env:ADM\"\n\n[[tokens]]\nname = \"cx\"\nrole = \"read\"\nsites = [\"shop\"]\nsecret = \"env:CX\"\n";
        let config = "[[sites]]\nid = \"shop\"\norigins = [\"https://shop.example\"]\nidentity = \"required\"\nidentity_secret = \"env:ID\"\n\n[[tokens]]\nname = \"ops\"\nrole = \"metrics\"\nsites = [\"*\"]\nsecret = \"env:M\"\n";
        for data in [
            Vec::new(),
            input(0, &["Bearer adm_0123456789abcdef", "shop", "", "", ""]),
            input(1, &["bearer read_0123456789abcdef", "other", "extra_0123456789abcdef", "shop,other", toml_tokens]),
            input(2, &["Bearer adm_0123456789abcdef", "x", "adm_0123456789abcdef", "*", config]),
            input(5, &["Bearer  a b", "", " ", ",", "[[tokens]]\nname = \"x\"\nrole = \"god\""]),
            input(0xff, &["Bearer\u{a0}adm_0123456789abcdef", "\u{0}", "\t", "*", "tokens = 1"]),
            input(9, &["BEARER metrics_0123456789abcdef ", "shop", "UNSET", "", "[[tokens]]\nname = \"u\"\nrole = \"read\"\nsites = [\"*\"]\nsecret = \"env:UNSET_X\"\n"]),
        ] {
            check_tokens(&data);
        }
    }

    #[test]
    fn client_invariants_hold_on_fixed_inputs() {
        for data in [
            Vec::new(),
            input(8, &["10.0.0.2", "6.6.6.6, 203.0.113.9", "10.0.0.0/8"]),
            input(
                24,
                &[
                    "10.0.0.2",
                    "6.6.6.6, 203.0.113.9, 10.1.1.1",
                    "10.0.0.0/8\n::/0",
                ],
            ),
            input(
                64,
                &["2001:db8::1", "garbage, 2001:db8::2", "2001:db8::/32"],
            ),
            input(33, &[" 192.168.1.7 ", ",,,", "192.168.1.7\n0.0.0.0/0"]),
            input(
                129,
                &[
                    "::ffff:10.0.0.1",
                    "::ffff:1.2.3.4",
                    "10.0.0.0/8\n10.0.0.0/33\nnope",
                ],
            ),
            input(0, &["not an ip", "1.2.3.4", "0.0.0.0/0"]),
            input(
                0xff,
                &[
                    "10.0.0.1",
                    "\u{0}\u{ffff}, 1.1.1.1",
                    "10.0.0.0 / 8\n/\n1.2.3.4/",
                ],
            ),
        ] {
            check_client(&data);
        }
    }
}

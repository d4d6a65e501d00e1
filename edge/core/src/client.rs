//! Which client a request comes from, for rate limiting — never stored or logged (it is hashed,
//! see [`crate::iphash`]).
//!
//! - The address is the peer the runtime saw (the socket peer natively; the header the worker
//!   is configured to trust on Cloudflare, `CF-Connecting-IP`).
//! - Behind proxies of your own (`trusted_proxies`, CIDRs, off by default), `X-Forwarded-For` is
//!   read from the RIGHT: each proxy appends the address it got the request from, so the
//!   right-most address that is not one of your proxies is the client. The left-most entries are
//!   whatever the client wrote, and never count.
//! - An IPv6 client is keyed by its /64: one subscriber usually holds a whole /64, and keying
//!   per address would give them 2^64 buckets.

use std::net::IpAddr;

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/bits`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?} has an invalid prefix length"))?,
        };
        Ok(Cidr { net, bits })
    }

    /// True when `ip` is inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(_), IpAddr::V4(a)) => self.contains(IpAddr::V6(a.to_ipv6_mapped())),
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    a[..whole] == b[..whole] && (rest == 0 || (a[whole] ^ b[whole]) & (0xff << (8 - rest)) == 0)
}

/// The client's address: the peer, or behind trusted proxies the right-most untrusted
/// `X-Forwarded-For` hop. `None` when the peer is unknown.
pub fn address(
    peer: Option<&str>,
    forwarded_for: Option<&str>,
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let peer: IpAddr = peer?.trim().parse().ok()?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return Some(ip),
            // Garbage in the header: the last address we could trust stands.
            Err(_) => return Some(client),
        }
    }
    Some(client)
}

/// The rate-limit key material of an address: an IPv4 address as is, an IPv6 one by its /64.
pub fn key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| Cidr::parse(c).unwrap()).collect()
    }

    #[test]
    fn blocks() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.3.4".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("2001:db8::/32")
            .unwrap()
            .contains("2001:db8:1::5".parse().unwrap()));
        assert!(Cidr::parse("192.168.1.7")
            .unwrap()
            .contains("192.168.1.7".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/12")
            .unwrap()
            .contains("10.15.255.1".parse().unwrap()));
        assert!(!Cidr::parse("10.0.0.0/12")
            .unwrap()
            .contains("10.16.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = cidrs(&["10.0.0.0/8"]);
        // The client forged the left-most entry; the proxy appended the real address.
        let xff = Some("6.6.6.6, 203.0.113.9");
        assert_eq!(
            address(Some("10.0.0.2"), xff, &proxies),
            Some("203.0.113.9".parse().unwrap())
        );
        // Two of our proxies in a row.
        let xff2 = Some("6.6.6.6, 203.0.113.9, 10.1.1.1");
        assert_eq!(
            address(Some("10.0.0.2"), xff2, &proxies),
            Some("203.0.113.9".parse().unwrap())
        );
        // Not from a trusted proxy: the header is the client's own words.
        assert_eq!(
            address(Some("198.51.100.1"), xff, &proxies),
            Some("198.51.100.1".parse().unwrap())
        );
        // Off (no trusted proxies): never read.
        assert_eq!(
            address(Some("10.0.0.2"), xff, &[]),
            Some("10.0.0.2".parse().unwrap())
        );
        assert_eq!(address(None, xff, &proxies), None);
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        let a = key("2001:db8:aa:bb:1:2:3:4".parse().unwrap());
        assert_eq!(a, key("2001:db8:aa:bb:ffff::9".parse().unwrap()));
        assert_ne!(a, key("2001:db8:aa:bc::1".parse().unwrap()));
        assert_eq!(key("::ffff:203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(key("203.0.113.9".parse().unwrap()), "203.0.113.9");
    }
}

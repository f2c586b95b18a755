# FRR node image: the shared base (FRR, GoBGP and BIRD from Debian bookworm) plus a check that
# the daemons this kind starts are really there. The lab starts zebra/bgpd/staticd itself.
ARG BASE
FROM ${BASE}
RUN /usr/lib/frr/zebra --version >/dev/null && /usr/lib/frr/bgpd --version >/dev/null && test -x /usr/lib/frr/staticd && test -x /usr/bin/vtysh
LABEL org.peerproof.daemon=frr
CMD ["sleep", "infinity"]

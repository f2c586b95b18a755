# GoBGP node image: the shared base plus a check that gobgpd and its CLI are there.
ARG BASE
FROM ${BASE}
RUN gobgpd --version && gobgp --version
LABEL org.peerproof.daemon=gobgp
CMD ["sleep", "infinity"]

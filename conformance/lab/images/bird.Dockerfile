# BIRD node image: the shared base plus a check that bird2 and birdc are there.
ARG BASE
FROM ${BASE}
RUN bird --version && test -x /usr/sbin/birdc
LABEL org.peerproof.daemon=bird
CMD ["sleep", "infinity"]

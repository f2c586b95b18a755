# The peerproof image: the lab base (FRR, GoBGP, BIRD, OpenBGPD, tcpdump, iproute2, nftables from
# Debian bookworm) plus the host's Node.js binary and the project with its node_modules, so
# `docker run --privileged -v OUT:/report IMAGE run --report /report ...` runs the main job in the
# container's own network namespace. Built offline by peerproof-image.ts (no registry, no network).
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
ADD node_modules.tar /opt/peerproof/
ADD project.tar /opt/peerproof/
RUN ln -s /opt/peerproof/bin/peerproof.js /usr/local/bin/peerproof \
 && node --version && /usr/lib/frr/bgpd --version >/dev/null && gobgpd --version && bird --version \
 && test -x /usr/sbin/bgpd && tcpdump --version && ip -V && nft --version \
 && peerproof --version
WORKDIR /opt/peerproof
LABEL org.peerproof.image=peerproof
ENTRYPOINT ["peerproof"]
CMD ["--help"]

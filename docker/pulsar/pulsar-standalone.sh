#!/usr/bin/env bash
# Pulsar standalone in the foreground, data in /pulsar/data (a volume): the bookie journal and
# ledgers and the metadata store survive a restart of the container.
set -euo pipefail
conf=/pulsar/data/standalone.conf
mkdir -p /pulsar/data/metadata /pulsar/data/bookkeeper
cp /opt/pulsar/conf/standalone.conf "$conf"
cat >>"$conf" <<CONF
bindAddress=0.0.0.0
advertisedAddress=${PULSAR_ADVERTISED_ADDRESS}
brokerServicePort=6650
webServicePort=8080
CONF
# shellcheck disable=SC2086
exec java ${PULSAR_MEM} \
  --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.util.zip=ALL-UNNAMED \
  --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-opens java.base/sun.net=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED \
  -Dio.netty.tryReflectionSetAccessible=true \
  -Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver \
  -Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver \
  -Dlog4j2.configurationFile=/opt/pulsar/conf/log4j2.xml -Dpulsar.log.dir=/pulsar/data \
  -cp '/opt/pulsar/lib/*' org.apache.pulsar.PulsarStandaloneStarter \
  --config "$conf" --no-functions-worker --no-stream-storage \
  --metadata-dir /pulsar/data/metadata --bookkeeper-dir /pulsar/data/bookkeeper \
  --advertised-address "${PULSAR_ADVERTISED_ADDRESS}"

#!/usr/bin/env bash
# Pulsar standalone in the foreground, data in /pulsar/data (a volume): the bookie journal and
# ledgers and the metadata store survive a restart of the container.
# Two listeners (PIP-95: a client that names no listener gets the one of the port it connected to):
#   6650, for containers: lookups answer pulsar://$PULSAR_ADVERTISED_ADDRESS:6650;
#   6651, for clients on the host (compose publishes it as localhost:$PULSAR_PORT): lookups answer
#   $PULSAR_EXTERNAL_URL, so a producer on the host is not sent to a name only containers resolve.
set -euo pipefail
conf=/pulsar/data/standalone.conf
mkdir -p /pulsar/data/metadata /pulsar/data/bookkeeper
cp /opt/pulsar/conf/standalone.conf "$conf"
cat >>"$conf" <<CONF
bindAddress=0.0.0.0
brokerServicePort=6650
webServicePort=8080
advertisedListeners=internal:pulsar://${PULSAR_ADVERTISED_ADDRESS}:6650,external:${PULSAR_EXTERNAL_URL}
internalListenerName=internal
bindAddresses=external:pulsar://0.0.0.0:6651
CONF
# shellcheck disable=SC2046,SC2086
exec java ${PULSAR_MEM} $(grep -v '^#' /opt/pulsar/conf/java-options) \
  -Dlog4j2.configurationFile=/opt/pulsar/conf/log4j2.xml -Dpulsar.log.dir=/pulsar/data \
  -cp '/opt/pulsar/lib/*' org.apache.pulsar.PulsarStandaloneStarter \
  --config "$conf" --no-functions-worker --no-stream-storage \
  --metadata-dir /pulsar/data/metadata --bookkeeper-dir /pulsar/data/bookkeeper

package io.celerybridge.udfs.builtin;

import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.UdfResult;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoutingUdfTest {

    private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");

    private static final String SCHEMA = "{\"required\": [\"type\", \"/order/id\"], \"fields\": {"
            + "\"type\": {\"type\": \"string\", \"max_length\": 32},"
            + "\"/order/amount\": {\"type\": [\"integer\", \"number\"], \"min\": 0, \"max\": 1000},"
            + "\"status\": {\"enum\": [\"new\", \"paid\"]}}}";

    private static final String ROUTES = "{\"type_pointer\": \"/type\", \"routes\": {"
            + "\"order.created\": {\"task\": \"shop.created\", \"queue\": \"orders\", \"priority\": 3,"
            + "  \"args\": [\"/order/id\"], \"kwargs\": {\"amount\": \"/order/amount\", \"event\": \"\"}, \"countdown\": \"30s\", \"expires\": \"1h\"},"
            + "\"invoice.due\": {\"task\": \"billing.remind\", \"eta_pointer\": \"/due_at\"}}}";

    private static RoutingUdf udf() {
        return new RoutingUdf(SCHEMA, ROUTES, "default.task", "celery").withClock(Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static UdfResult run(String payload) {
        return udf().process(new Event("e-1", payload, 0L));
    }

    @Test
    void routesByTypeAndMapsThePayload() {
        String payload = "{\"type\": \"order.created\", \"order\": {\"id\": 7, \"amount\": 12.50}, \"status\": \"new\"}";
        UdfResult r = run(payload);
        assertThat(r.kind()).isEqualTo(UdfResult.Kind.TASKS);
        CeleryTask t = r.tasks().get(0);
        assertThat(t.name()).isEqualTo("shop.created");
        assertThat(t.queue()).isEqualTo("orders");
        assertThat(t.id()).isEqualTo(CeleryTaskIds.forKey("e-1"));
        assertThat(t.argsJson()).isEqualTo("[7]");
        assertThat(t.kwargsJson()).isEqualTo("{\"amount\": 12.50, \"event\": " + payload + "}");
        assertThat(t.priority()).isEqualTo(3);
        assertThat(t.eta()).isEqualTo(NOW.plusSeconds(30));
        assertThat(t.expires()).isEqualTo(NOW.plusSeconds(3600));
    }

    @Test
    void etaComesFromThePayload() {
        CeleryTask t = run("{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": \"2026-12-01T08:00:00+01:00\"}").tasks().get(0);
        assertThat(t.eta()).isEqualTo(Instant.parse("2026-12-01T07:00:00Z"));
        assertThat(t.kwargsJson()).startsWith("{\"event\": {");
        assertThat(run("{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": \"tomorrow\"}").reason())
                .isEqualTo(RoutingUdf.INVALID_ETA);
    }

    /** Python's time.time() gives seconds with microseconds: they used to be refused as INVALID_ETA. */
    @Test
    void etaInEpochSecondsWithAFractionIsExact() {
        CeleryTask t = run("{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": 1732780800.123456}").tasks().get(0);
        assertThat(t.eta()).isEqualTo(Instant.ofEpochSecond(1732780800L, 123_456_000));
        assertThat(run("{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": 1732780800}").tasks().get(0).eta())
                .isEqualTo(Instant.ofEpochSecond(1732780800L));
    }

    /**
     * An ETA no Python datetime holds is this event's INVALID_ETA. It used to pass the UDF's check
     * and overflow when the task was built, failing the whole batch as a transient error.
     */
    @Test
    void anEtaBeyondWhatAWorkerReadsIsRefusedForThatEventAlone() {
        for (String due : new String[] {"1e17", "1e15", "-1e12", "\"+10000-01-01T00:00:00Z\"", "\"+999999999-12-31T23:59:59Z\"", "1e400"}) {
            UdfResult r = run("{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": " + due + "}");
            assertThat(r.kind()).as(due).isEqualTo(UdfResult.Kind.FAIL);
            assertThat(r.reason()).as(due).isEqualTo(RoutingUdf.INVALID_ETA);
        }
        java.util.List<UdfResult> batch = udf().process(java.util.List.of(
                new Event("e-1", "{\"type\": \"invoice.due\", \"order\": {\"id\": 1}, \"due_at\": 1e17}", 0L),
                new Event("e-2", "{\"type\": \"invoice.due\", \"order\": {\"id\": 2}, \"due_at\": 1732780800.5}", 0L)));
        assertThat(batch.get(0).reason()).isEqualTo(RoutingUdf.INVALID_ETA);
        assertThat(batch.get(1).kind()).as("the other event of the batch").isEqualTo(UdfResult.Kind.TASKS);
    }

    @Test
    void schemaViolationsNameTheFieldAndWhatWasExpected() {
        assertThat(run("{\"order\": {\"id\": 1}}").detail()).isEqualTo("required field 'type' is missing");
        UdfResult r = run("{\"type\": \"order.created\", \"order\": {\"id\": 1, \"amount\": 5000}}");
        assertThat(r.reason()).isEqualTo(RoutingUdf.SCHEMA_VIOLATION);
        assertThat(r.detail()).isEqualTo("field '/order/amount': expected at most 1000, got 5000");
        assertThat(run("{\"type\": 3, \"order\": {\"id\": 1}}").detail()).isEqualTo("field 'type': expected string, got integer");
        assertThat(run("{\"type\": \"x\", \"order\": {\"id\": 1}, \"status\": \"lost\"}").detail())
                .isEqualTo("field 'status': expected one of [\"new\", \"paid\"], got \"lost\"");
    }

    @Test
    void anUnknownTypeWithoutADefaultRouteHasNoRoute() {
        UdfResult r = run("{\"type\": \"user.deleted\", \"order\": {\"id\": 1}}");
        assertThat(r.reason()).isEqualTo(RoutingUdf.NO_ROUTE);
        assertThat(r.detail()).contains("\"user.deleted\" at /type has no route");
    }

    @Test
    void aMissingMappedValueFailsTheMapping() {
        RoutingUdf u = new RoutingUdf("", "{\"routes\": {\"*\": {\"task\": \"t\", \"args\": [\"/missing\"]}}}", "d", "celery");
        UdfResult r = u.process(new Event("e", "{\"a\": 1}", 0L));
        assertThat(r.reason()).isEqualTo(RoutingUdf.MAPPING_FAILED);
        assertThat(r.detail()).isEqualTo("args[0]: no value at /missing");
    }

    @Test
    void withoutRoutesEveryEventGoesToTheDefaultTask() {
        CeleryTask t = RoutingUdf.allTo("celery_bridge.process_event", "celery").process(new Event("e", "{\"a\": 1}", 0L)).tasks().get(0);
        assertThat(t.name()).isEqualTo("celery_bridge.process_event");
        assertThat(t.kwargsJson()).isEqualTo("{\"event\": {\"a\": 1}}");
    }

    @Test
    void payloadBlindRoutesPassThePayloadTextOnUnparsed() {
        // The decode stage validated it and the codec parses the kwargs anyway: a third parse here was pure cost.
        String text = "{\"a\":1,  \"b\" : [ ]}";
        CeleryTask t = RoutingUdf.allTo("celery_bridge.process_event", "celery").process(new Event("e", text, 0L)).tasks().get(0);
        assertThat(t.kwargsJson()).isEqualTo("{\"event\": " + text + "}");
        UdfResult typed = new RoutingUdf("", "{\"routes\": {\"*\": {\"task\": \"t.x\"}}}", "d", "celery")
                .process(new Event("e", "not json", 0L));
        assertThat(typed.reason()).as("routes by type read the payload").isEqualTo(RoutingUdf.SCHEMA_VIOLATION);
    }

    @Test
    void perBatchModeSplitsABatchWhosePayloadsWouldOutgrowOneTask() {
        RoutingUdf u = new RoutingUdf("", "", "d", "celery", "celery_bridge.process_batch", 1_000);
        String big = "{\"v\": \"" + "é".repeat(400) + "\"}";
        java.util.List<Event> events = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            events.add(new Event("e" + i, big, 0L));
        }
        java.util.List<UdfResult> r = u.process(events);
        // 2 members of ~470 chars each fit in 1,000: tasks of e0+e1, e2+e3, e4; every event in exactly one.
        assertThat(r.get(0)).isSameAs(r.get(1)).isNotSameAs(r.get(2));
        assertThat(r.get(2)).isSameAs(r.get(3)).isNotSameAs(r.get(4));
        assertThat(r.get(0).tasks().get(0).memberKeys()).containsExactly("e0", "e1");
        assertThat(r.get(4).tasks().get(0).memberKeys()).containsExactly("e4");
    }

    @Test
    void perBatchModeMakesOneTaskOfTheValidEventsOfABatch() {
        RoutingUdf u = new RoutingUdf("{\"required\": [\"n\"]}", "", "d", "celery", "celery_bridge.process_batch");
        java.util.List<UdfResult> r = u.process(java.util.List.of(new Event("a", "{\"n\": 1}", 0L),
                new Event("b", "{\"x\": 1}", 0L), new Event("c", "{\"n\": 3}", 0L), new Event("a", "{\"n\": 1}", 0L)));
        assertThat(r.get(1).reason()).isEqualTo(RoutingUdf.SCHEMA_VIOLATION);
        assertThat(r.get(0)).isSameAs(r.get(2)).isSameAs(r.get(3));
        CeleryTask t = r.get(0).tasks().get(0);
        assertThat(t.name()).isEqualTo("celery_bridge.process_batch");
        assertThat(t.memberKeys()).containsExactly("a", "c");
        assertThat(t.kwargsJson()).isEqualTo("{\"events\": [{\"n\": 1}, {\"n\": 3}]}");
        assertThat(t.id()).as("the same members make the same task").isEqualTo(
                CeleryTask.builder().name("x").batchOf("events", java.util.List.of("c", "a"), java.util.List.of("1", "2")).build().id());
        assertThatThrownBy(() -> new RoutingUdf("", "{\"routes\": {\"*\": {\"task\": \"t\"}}}", "d", "q", "b"))
                .hasMessageStartingWith("udf.batch_task: per-batch mode");
    }

    @Test
    void badSettingsNameThePathAndWhatWasExpected() {
        assertThatThrownBy(() -> new RoutingUdf("", "{\"routes\": {\"a\": {\"task\": \"t\", \"qeue\": \"x\"}}}", "d", "q"))
                .hasMessageStartingWith("udf.routing.routes.a: unknown key 'qeue'; expected one of [args, countdown");
        assertThatThrownBy(() -> new RoutingUdf("{\"fields\": {\"a\": {\"type\": \"text\"}}}", "", "d", "q"))
                .hasMessageContaining("udf.schema.fields.a.type: expected one of");
        assertThatThrownBy(() -> new RoutingUdf("", "{\"routes\": {\"a\": {\"task\": \"t\", \"countdown\": \"soon\"}}}", "d", "q"))
                .hasMessage("udf.routing.routes.a.countdown: expected a duration such as 500ms, 30s, 5m, 1h or 2d, got \"soon\"");
        assertThatThrownBy(() -> new RoutingUdf("", "{\"routes\": {\"a\": {\"queue\": \"x\"}}}", "d", "q"))
                .hasMessage("udf.routing.routes.a: 'task' is required (the Celery task name)");
    }
}

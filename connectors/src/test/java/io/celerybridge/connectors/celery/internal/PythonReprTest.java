package io.celerybridge.connectors.celery.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PythonReprTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void rendersWhatPythonReprPrints() throws Exception {
        JsonNode kwargs = json("{\"event\": {\"id\": \"a'b\", \"q\": \"say \\\"hi\\\"\", \"both\": \"it's \\\"x\\\"\","
                + " \"ctl\": \"tab\\there\\nnl\\u0001\\u007f\", \"bs\": \"back\\\\slash\", \"n\": 1, \"f\": 1.5,"
                + " \"ok\": true, \"none\": null, \"list\": [1, \"x\"]}}");
        // Expected text printed by python3: repr() of the same dict.
        assertThat(PythonRepr.of(kwargs, 1024)).isEqualTo("{'event': {'id': \"a'b\", 'q': 'say \"hi\"', 'both': 'it\\'s \"x\"', "
                + "'ctl': 'tab\\there\\nnl\\x01\\x7f', 'bs': 'back\\\\slash', 'n': 1, 'f': 1.5, 'ok': True, 'none': None, "
                + "'list': [1, 'x']}}");
        assertThat(PythonRepr.ofArgs(json("[\"x\"]"), 1024)).isEqualTo("('x',)");
        assertThat(PythonRepr.ofArgs(json("[1, 2]"), 1024)).isEqualTo("(1, 2)");
    }

    @Test
    void cutsLongValuesAtTheBound() throws Exception {
        String data = "x".repeat(5_000);
        String full = "{'event': {'data': '" + data + "'}}";
        String repr = PythonRepr.of(json("{\"event\": {\"data\": \"" + data + "\"}}"), 100);
        assertThat(repr).hasSize(100).endsWith("...").isEqualTo(full.substring(0, 97) + "...");

        // Escapes straddling the bound are cut the same way as plain text.
        String escaped = "\\n".repeat(3_000);
        String fullEscaped = "{'k': '" + "\\n".repeat(3_000) + "'}";
        assertThat(PythonRepr.of(json("{\"k\": \"" + escaped + "\"}"), 101)).isEqualTo(fullEscaped.substring(0, 98) + "...");

        // Exactly at the bound: not cut.
        String fits = "{'k': '" + "y".repeat(20) + "'}";
        assertThat(PythonRepr.of(json("{\"k\": \"" + "y".repeat(20) + "\"}"), fits.length())).isEqualTo(fits);
        assertThat(PythonRepr.of(json("{\"k\": \"" + "y".repeat(21) + "\"}"), fits.length())).hasSize(fits.length()).endsWith("...");
    }
}

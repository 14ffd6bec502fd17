package io.celerybridge.connectors.celery.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Expected strings are what python3's json.dumps(json.loads(...)) prints for the same input. */
class PythonJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesEveryValueKindAsJsonDumps() throws Exception {
        String input = "{\"a\":[1,-2,12345678901234,123456789012345678901234567890,1.5,0.1,-0.0,true,false,null,{},[]],"
                + "\"\u00e9\":\"x\u00e9\\n\\u0001\\ud83d\\ude00\"}";
        String expected = "{\"a\": [1, -2, 12345678901234, 123456789012345678901234567890, 1.5, 0.1, -0.0, true, false, null, {}, []], "
                + "\"\\u00e9\": \"x\\u00e9\\n\\u0001\\ud83d\\ude00\"}";
        assertThat(new String(PythonJson.write(JSON.readTree(input)), StandardCharsets.US_ASCII)).isEqualTo(expected);
    }

    @Test
    void streamedContentUsesTheSameSeparatorsAndEscapes() {
        byte[] raw = "QUJD".getBytes(StandardCharsets.US_ASCII);
        byte[] out = PythonJson.write(16, g -> {
            g.writeStartObject();
            g.writeFieldName("body");
            g.writeRawUTF8String(raw, 0, raw.length);
            g.writeStringField("repr", "{'k': 'Zo\u00eb'}");
            g.writeArrayFieldStart("t");
            g.writeNull();
            g.writeNull();
            g.writeEndArray();
            g.writeEndObject();
        });
        assertThat(new String(out, StandardCharsets.US_ASCII))
                .isEqualTo("{\"body\": \"QUJD\", \"repr\": \"{'k': 'Zo\\u00eb'}\", \"t\": [null, null]}");
    }
}

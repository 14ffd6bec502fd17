package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.metrics.MetricGroup;

import java.util.Map;

/** What a {@link BatchUdf} can see of where it runs. */
@PublicEvolving
public interface UdfContext {

    /** Register the UDF's own metrics here; they appear beside the stage's. */
    MetricGroup metricGroup();

    /** The UDF's settings: the {@code udf.params} mapping of the configuration, flattened to dotted keys. */
    Map<String, String> params();

    int subtaskIndex();

    int parallelism();
}

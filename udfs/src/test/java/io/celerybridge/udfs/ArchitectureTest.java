package io.celerybridge.udfs;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** udfs process events; they do no I/O. The only connectors types they may use are the task description and its ids. */
class ArchitectureTest {

    private static final JavaClasses UDFS = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.celerybridge.udfs");

    @Test
    void udfsUseNoPulsarOrValkeyClient() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                        "io.lettuce..", "org.apache.pulsar..", "org.apache.flink.connector.pulsar..", "io.netty..")
                .check(UDFS);
    }

    @Test
    void udfsUseOnlyTheTaskDescriptionFromConnectors() {
        noClasses().should().dependOnClassesThat(
                        com.tngtech.archunit.base.DescribedPredicate.describe(
                                "connectors classes other than CeleryTask, CeleryTaskIds and IdempotencyKeys",
                                c -> c.getBaseComponentType().getPackageName().startsWith("io.celerybridge.connectors")
                                        && !c.getBaseComponentType().getName().startsWith("io.celerybridge.connectors.celery.CeleryTask")
                                        && !c.getBaseComponentType().getName().equals("io.celerybridge.connectors.celery.IdempotencyKeys")))
                .check(UDFS);
    }

    @Test
    void udfsDoNotDependOnTheJob() {
        noClasses().should().dependOnClassesThat().resideInAPackage("io.celerybridge.job..").check(UDFS);
    }
}

package io.celerybridge.connectors.pulsar;

import io.celerybridge.connectors.pulsar.internal.PulsarClientClosingClasses;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.pulsar.common.config.PulsarOptions;
import org.apache.flink.connector.pulsar.sink.PulsarSinkBuilder;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminBuilder;
import org.apache.pulsar.client.api.ClientBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;

import java.io.Serializable;
import java.util.Objects;

/**
 * How to reach one Pulsar cluster: broker and admin URLs, token authentication and TLS trust. One
 * place, so the admin calls, the sinks, the source and the replay tool all connect alike.
 *
 * <p>TLS follows the URL schemes ({@code pulsar+ssl://}, {@code https://}); hostname verification
 * is ON unless turned off (the Pulsar client's own default is off).
 */
@PublicEvolving
public final class PulsarConnection implements Serializable {
    static {
        PulsarNativeTransport.useJavaTransport(); // before any Pulsar client: see PulsarNativeTransport
    }

    private static final long serialVersionUID = 1L;

    public static final String TOKEN_AUTH_PLUGIN = "org.apache.pulsar.client.impl.auth.AuthenticationToken";

    private final String serviceUrl;
    private final String adminUrl;
    private final String authToken;
    private final String tlsTrustCertsFile;
    private final boolean tlsAllowInsecure;
    private final boolean tlsHostnameVerification;

    private PulsarConnection(String serviceUrl, String adminUrl, String authToken, String tlsTrustCertsFile,
            boolean tlsAllowInsecure, boolean tlsHostnameVerification) {
        this.serviceUrl = Objects.requireNonNull(serviceUrl, "serviceUrl");
        this.adminUrl = Objects.requireNonNull(adminUrl, "adminUrl");
        this.authToken = authToken == null || authToken.isEmpty() ? null : authToken;
        this.tlsTrustCertsFile = tlsTrustCertsFile == null || tlsTrustCertsFile.isEmpty() ? null : tlsTrustCertsFile;
        this.tlsAllowInsecure = tlsAllowInsecure;
        this.tlsHostnameVerification = tlsHostnameVerification;
    }

    /** Plain connection: no authentication, the JVM's trust store, hostname verification on. */
    public static PulsarConnection of(String serviceUrl, String adminUrl) {
        return new PulsarConnection(serviceUrl, adminUrl, null, null, false, true);
    }

    /** The same, authenticated with this JWT (null or empty: none); the token is never logged. */
    public PulsarConnection withAuthToken(String token) {
        return new PulsarConnection(serviceUrl, adminUrl, token, tlsTrustCertsFile, tlsAllowInsecure, tlsHostnameVerification);
    }

    /**
     * @param trustCertsFile PEM file of the CAs to trust (null or empty: the JVM's trust store)
     * @param allowInsecure accept any certificate (testing only)
     * @param hostnameVerification check that the certificate names the host connected to
     */
    public PulsarConnection withTls(String trustCertsFile, boolean allowInsecure, boolean hostnameVerification) {
        return new PulsarConnection(serviceUrl, adminUrl, authToken, trustCertsFile, allowInsecure, hostnameVerification);
    }

    public String serviceUrl() {
        return serviceUrl;
    }

    public String adminUrl() {
        return adminUrl;
    }

    String authToken() {
        return authToken;
    }

    String tlsTrustCertsFile() {
        return tlsTrustCertsFile;
    }

    boolean tlsAllowInsecure() {
        return tlsAllowInsecure;
    }

    boolean tlsHostnameVerification() {
        return tlsHostnameVerification;
    }

    /** An admin client; the caller closes it. */
    public PulsarAdmin admin() {
        PulsarClientClosingClasses.load();
        try {
            PulsarAdminBuilder b = PulsarAdmin.builder().serviceHttpUrl(adminUrl)
                    .allowTlsInsecureConnection(tlsAllowInsecure)
                    .enableTlsHostnameVerification(tlsHostnameVerification);
            if (authToken != null) {
                b.authentication(TOKEN_AUTH_PLUGIN, tokenAuthParams(authToken));
            }
            if (tlsTrustCertsFile != null) {
                b.tlsTrustCertsFilePath(tlsTrustCertsFile);
            }
            return b.build();
        } catch (PulsarClientException e) {
            throw new IllegalStateException("cannot create a Pulsar admin client for " + adminUrl + ": " + e.getMessage(), e);
        }
    }

    /** A client; the caller closes it. */
    public PulsarClient client() throws PulsarClientException {
        PulsarClientClosingClasses.load();
        ClientBuilder b = PulsarClient.builder().serviceUrl(serviceUrl)
                .allowTlsInsecureConnection(tlsAllowInsecure)
                .enableTlsHostnameVerification(tlsHostnameVerification);
        if (authToken != null) {
            b.authentication(TOKEN_AUTH_PLUGIN, tokenAuthParams(authToken));
        }
        if (tlsTrustCertsFile != null) {
            b.tlsTrustCertsFilePath(tlsTrustCertsFile);
        }
        return b.build();
    }

    /** Points a PulsarSink builder at this cluster with these settings. */
    public <T> PulsarSinkBuilder<T> applyTo(PulsarSinkBuilder<T> b) {
        b.setServiceUrl(serviceUrl).setAdminUrl(adminUrl)
                .setConfig(PulsarOptions.PULSAR_TLS_ALLOW_INSECURE_CONNECTION, tlsAllowInsecure)
                .setConfig(PulsarOptions.PULSAR_TLS_HOSTNAME_VERIFICATION_ENABLE, tlsHostnameVerification);
        if (authToken != null) {
            b.setAuthentication(TOKEN_AUTH_PLUGIN, tokenAuthParams(authToken));
        }
        if (tlsTrustCertsFile != null) {
            b.setConfig(PulsarOptions.PULSAR_TLS_TRUST_CERTS_FILE_PATH, tlsTrustCertsFile);
        }
        return b;
    }

    /** AuthenticationToken's encoded parameters; its Map form leaves the token unset (seen with client 3.0). */
    static String tokenAuthParams(String token) {
        return "token:" + token;
    }

    @Override
    public String toString() {
        return "PulsarConnection{" + serviceUrl + ", " + adminUrl + (authToken != null ? ", token=***" : "")
                + (tlsTrustCertsFile != null ? ", trust=" + tlsTrustCertsFile : "") + "}";
    }
}

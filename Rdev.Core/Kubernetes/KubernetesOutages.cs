using System.Net;
using k8s.Autorest;

namespace Rdev.Core.Kubernetes;

/// <summary>Which failed calls count against <see cref="KubernetesCircuit"/>: outages of the API server, not its answers.</summary>
public interface IKubernetesOutageClassifier
{
    bool IsOutage(Exception exception);
}

/// <summary>
/// The default rule: 429 and 5xx, transport errors and timeouts are outages. Client errors (403 without RBAC, 404 for
/// a missing namespace) are answers from a working API server, and a cancellation is the caller's own doing.
/// </summary>
public sealed class KubernetesOutages : IKubernetesOutageClassifier
{
    public bool IsOutage(Exception exception) => exception switch
    {
        HttpOperationException { Response.StatusCode: var code } => code == HttpStatusCode.TooManyRequests || (int)code >= 500,
        OperationCanceledException => false,
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };
}

/// <summary>Told when the circuit opens and closes (discovery turns it into its <c>/ready</c> source).</summary>
public interface IKubernetesCircuitObserver
{
    void Opened(TimeSpan breakDuration);

    void Closed();
}

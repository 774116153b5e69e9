using System.Reflection;
using MediatR;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Webinar.ControlPlane.Mediation;

/// <summary>
/// Registers MediatR 5.1.0 with Microsoft.Extensions.DependencyInjection (its own DI package is not available
/// at 5.x): the mediator over a <see cref="ServiceFactory"/>, every request handler and validator of the
/// assembly, and the validation and logging pipeline behaviours (outermost first).
/// </summary>
internal static class MediatorServiceCollectionExtensions
{
    public static IServiceCollection AddMediation(this IServiceCollection services, Assembly assembly)
    {
        services.TryAddTransient<ServiceFactory>(sp => sp.GetService!);
        services.TryAddTransient<IMediator, Mediator>();
        services.TryAddEnumerable(ServiceDescriptor.Transient(typeof(IPipelineBehavior<,>), typeof(LoggingBehavior<,>)));
        services.TryAddEnumerable(ServiceDescriptor.Transient(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>)));

        foreach (var type in assembly.GetTypes())
        {
            if (type.IsAbstract || type.IsInterface || type.IsGenericTypeDefinition)
            {
                continue;
            }

            foreach (var contract in type.GetInterfaces())
            {
                if (!contract.IsGenericType)
                {
                    continue;
                }

                var definition = contract.GetGenericTypeDefinition();
                if (definition == typeof(IRequestHandler<,>))
                {
                    services.TryAddTransient(contract, type);
                }
                else if (definition == typeof(IValidator<>))
                {
                    services.TryAddEnumerable(ServiceDescriptor.Transient(contract, type));
                }
            }
        }

        return services;
    }
}

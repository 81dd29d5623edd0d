"""Cloud resources a cluster depends on: the API load balancer and its listeners, the subnets
whose free IPs new nodes take, the instance quota; and how midair numbers node addresses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listener:
    port: int = 6443
    backend_port: int = 6443
    protocol: str = "TCP"
    healthy: bool = True


@dataclass(frozen=True)
class LoadBalancer:
    healthy: bool = True
    listeners: tuple[Listener, ...] = (Listener(),)
    acl_allows_nodes: bool = True


PLENTY_OF_IPS = 4096  # a subnet's free IPs when a scenario does not say


def node_ip(zone_index: int, k: int) -> str:
    """The k-th address handed out in a zone's subnet (10.<zone>.0.0/16, from .0.10)."""
    k += 10
    return f"10.{zone_index}.{k // 256}.{k % 256}"


@dataclass(frozen=True)
class Subnet:
    name: str
    zone: str
    free_ips: int
    healthy: bool = True


@dataclass(frozen=True)
class CloudResources:
    load_balancer: LoadBalancer = LoadBalancer()
    subnets: tuple[Subnet, ...] = ()
    vpc_healthy: bool = True
    instance_quota: int | None = None
    instances_healthy: bool = True

    def subnet_for(self, zone: str) -> Subnet | None:
        for s in self.subnets:
            if s.zone == zone:
                return s
        return None

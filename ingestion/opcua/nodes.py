"""Turning configured nodes (NodeIds, browse paths, a browse root) into `Target`s on a connected server."""

from __future__ import annotations

import logging
from collections import deque

from asyncua import Client, ua

from ingestion.opcua.config import BrowseConfig, CollectorConfig, NodeSpec
from ingestion.opcua.errors import CollectorError
from ingestion.opcua.samples import Target

log = logging.getLogger(__name__)

_OBJECT_OR_VARIABLE = ua.NodeClass.Object | ua.NodeClass.Variable  # a browse mask, not a NodeClass value


async def resolve_targets(client: Client, config: CollectorConfig) -> list[Target]:
    """Every configured node as a Target; explicit [[nodes]] first, then discovered ones (first machine/tag wins)."""
    targets = [await _resolve_node(client, spec) for spec in config.nodes]
    if config.browse is not None:
        taken = {(t.machine_id, t.tag) for t in targets}
        for target in await discover_targets(client, config.browse):
            if (target.machine_id, target.tag) in taken:
                log.warning("skipping discovered %s: %s/%s is already collected", target.node_id,
                            target.machine_id, target.tag)
                continue
            taken.add((target.machine_id, target.tag))
            targets.append(target)
    if not targets:
        raise CollectorError(f"no variables to collect on {config.endpoint} (browse found none)")
    return targets


async def _resolve_node(client: Client, spec: NodeSpec) -> Target:
    if spec.node_id is not None:
        try:
            node_id = ua.NodeId.from_string(spec.node_id)
        except Exception as exc:  # asyncua raises several types for a malformed NodeId string
            raise CollectorError(f"node_id {spec.node_id!r} of {spec.machine_id}/{spec.tag} is malformed: {exc}") from exc
        return Target(node_id.to_string(), spec.machine_id, spec.tag, spec.states)
    assert spec.browse_path is not None
    try:
        node = await client.nodes.root.get_child(list(spec.browse_path))
    except ua.UaStatusCodeError as exc:
        raise CollectorError(f"browse path {'/'.join(spec.browse_path)} of {spec.machine_id}/{spec.tag} "
                             f"not found: {type(exc).__name__}") from exc
    return Target(node.nodeid.to_string(), spec.machine_id, spec.tag, spec.states)


async def discover_targets(client: Client, browse: BrowseConfig) -> list[Target]:
    """Breadth-first from `browse.root` down to `max_depth` levels (the root is level 0).

    Each Variable found below an Object becomes a Target with machine_id = the Object's browse name and
    tag = the Variable's browse name. Properties (HasProperty) and variables inside variables are skipped:
    they describe a signal rather than being one. At most `max_nodes` nodes are browsed."""
    root = client.get_node(browse.root)
    try:
        root_name = (await root.read_browse_name()).Name
    except ua.UaStatusCodeError as exc:
        raise CollectorError(f"browse root {browse.root} not found: {type(exc).__name__}") from exc
    queue: deque[tuple[ua.NodeId, str, int]] = deque([(root.nodeid, root_name, 0)])
    targets: list[Target] = []
    browsed = 0
    while queue and browsed < browse.max_nodes:
        node_id, name, depth = queue.popleft()
        browsed += 1
        if depth >= browse.max_depth:
            continue
        children = await client.get_node(node_id).get_children_descriptions(nodeclassmask=_OBJECT_OR_VARIABLE)
        for ref in children:
            if ref.ReferenceTypeId == ua.NodeId(ua.ObjectIds.HasProperty):
                continue
            child_id = ref.NodeId if isinstance(ref.NodeId, ua.NodeId) else ua.NodeId(ref.NodeId)
            if ref.NodeClass == ua.NodeClass.Variable:
                targets.append(Target(child_id.to_string(), name, ref.BrowseName.Name))
            elif child_id.NamespaceIndex != 0:  # namespace 0 is the server's own model, never a machine
                queue.append((child_id, ref.BrowseName.Name, depth + 1))
    return targets

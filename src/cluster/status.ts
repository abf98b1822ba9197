/** What operators see of a cluster (the types live with the plugin-facing view). */
export type { ClusterStatus, ClusterView, FollowerStatus } from '../plugin-host/cluster-view.js';

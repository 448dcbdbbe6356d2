// Package monitoringcrd pins the Prometheus Operator API types (monitoring.coreos.com/v1) that
// deploy-check hands to controller-gen to generate the ServiceMonitor CRD, from which the
// ServiceMonitor JSON schema for kubeconform is derived. Nothing imports this package.
package monitoringcrd

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

variable "aws_region" {
  description = "AWS region to create the cluster in."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name (and of the Name tag)."
  type        = string
  default     = "gpu-telemetry"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

# --- Network ---

variable "vpc_id" {
  description = "Existing VPC to use; empty creates a new VPC with public subnets and an internet gateway."
  type        = string
  default     = ""
}

variable "existing_subnet_ids" {
  description = "Public subnets of the existing VPC (required when vpc_id is set); instances are spread over them."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "CIDR of the new VPC. Must not overlap K3s' pod (10.42.0.0/16) and service (10.43.0.0/16) ranges."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "public_subnet_count" {
  description = "Number of public subnets (one per availability zone) in the new VPC."
  type        = number
  default     = 2

  validation {
    condition     = var.public_subnet_count >= 1 && var.public_subnet_count <= 4 && floor(var.public_subnet_count) == var.public_subnet_count
    error_message = "public_subnet_count must be a whole number from 1 to 4."
  }
}

# --- Access ---

variable "admin_cidr" {
  description = "CIDR allowed to reach SSH (22) and the K3s API (6443), e.g. your workstation's address /32."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a valid IPv4 CIDR block, and not 0.0.0.0/0."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for the ssh_user on every node (contents, not a path)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-*)."
  }
}

variable "http_ingress_cidrs" {
  description = "CIDRs allowed to reach HTTP/HTTPS (80/443, the K3s Traefik ingress); empty opens nothing."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.http_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of http_ingress_cidrs must be a valid IPv4 CIDR block."
  }
}

variable "expose_node_ports" {
  description = "Also open the NodePort range (30000-32767) to http_ingress_cidrs."
  type        = bool
  default     = false
}

# --- Instances ---

variable "server_instance_type" {
  description = "EC2 instance type of the K3s server (control plane; also runs workloads)."
  type        = string
  default     = "t3.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\\.[a-z0-9]+$", var.server_instance_type)) && !can(regex("^(t2|t3|t3a|t4g)\\.(nano|micro|small)$", var.server_instance_type))
    error_message = "server_instance_type must be an EC2 instance type (family.size) with at least 4 GiB of memory (not nano/micro/small)."
  }
}

variable "agent_instance_type" {
  description = "EC2 instance type of the K3s agents (workers)."
  type        = string
  default     = "t3.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\\.[a-z0-9]+$", var.agent_instance_type)) && !can(regex("^(t2|t3|t3a|t4g)\\.(nano|micro|small)$", var.agent_instance_type))
    error_message = "agent_instance_type must be an EC2 instance type (family.size) with at least 4 GiB of memory (not nano/micro/small)."
  }
}

variable "agent_count" {
  description = "Number of K3s agent (worker) instances."
  type        = number
  default     = 2

  validation {
    condition     = var.agent_count >= 0 && var.agent_count <= 20 && floor(var.agent_count) == var.agent_count
    error_message = "agent_count must be a whole number from 0 to 20."
  }
}

variable "root_volume_size_gb" {
  description = "Root EBS volume size of every node, in GiB (images, container logs, local-path volumes)."
  type        = number
  default     = 40

  validation {
    condition     = var.root_volume_size_gb >= 20 && var.root_volume_size_gb <= 1000
    error_message = "root_volume_size_gb must be between 20 and 1000."
  }
}

variable "architecture" {
  description = "CPU architecture of the nodes and of the Ubuntu AMI: x86_64 (t3, m7i, ...) or arm64 (Graviton: t4g, m7g, ...). Both instance types must match it."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  description = "AMI of the nodes (pin it to fix the image); empty picks the latest Ubuntu 24.04 LTS of the architecture at the first apply. Later AMI changes never replace running instances."
  type        = string
  default     = ""

  validation {
    condition     = var.ami_id == "" || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be empty or an AMI id (ami-0123456789abcdef0)."
  }
}

variable "ssh_user" {
  description = "Login user of the AMI (ubuntu for the default Ubuntu AMI)."
  type        = string
  default     = "ubuntu"
}
